"""The article reader on small pages written for each case: which title it picks and what text it
keeps. (Its quality on real pages is measured by `benchmarks/extraction.py`.)"""

from __future__ import annotations

from digest.http import Fetched
from digest.sources.article import Article, read_article

STORY = (
    "肉をくわえたイヌが、橋を渡っていました。ふと下を見ると、川の中にも肉をくわえたイヌがいます。"
    "イヌはそれを見て、思いました。あいつの肉の方が、大きそうだ。"
)


def read(page: str, url: str = "https://news.example.org/2024/story") -> Article:
    return read_article(Fetched(content=page.encode(), url=url, content_type="text/html"))


def test_a_story_in_a_layout_table_is_still_read() -> None:
    article = read(
        "<html><head><title>欲張りなイヌ</title></head><body><table><tr><td>"
        f"<font size=3>{STORY}<br>おしまい</font></td></tr></table></body></html>"
    )

    assert article.text.startswith(STORY)


def test_readers_comments_below_the_article_are_not_its_text() -> None:
    paragraphs = "".join(
        f"<p>El fiscal está perfilando con el jefe de la Fiscalía, en Madrid, la estrategia "
        f"jurídica que seguirá tras la imputación número {number} del juez.</p>"
        for number in range(2, 7)
    )
    # As on ultimahora.es: each comment in a box classed "borde_bottom".
    comments = "".join(
        f"<div class='borde_bottom'><div class='sf_comment'><p class='sf_comment_info'>"
        f"<span>Lector{number}</span><br><span class='date'>Hace {number} horas</span></p>"
        "<div class='sf_comment_text'><p>¿Es normal consultar con el fiscal jefe cada caso?</p>"
        "</div></div></div>"
        for number in range(1, 5)
    )
    article = read(
        f"<html><body><div class='noticia'><h1>Titular</h1>{paragraphs}"
        f"<div class='box'>{comments}</div></div></body></html>"
    )

    assert "estrategia jurídica" in article.text
    assert "Hace" not in article.text
    assert "fiscal jefe" not in article.text

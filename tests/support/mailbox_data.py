"""Messages for the mailbox tests: our fixtures (tests/fixtures/mailbox/, filled in per test) and
the 102 real bounces in ../shared/data/bounces/ with what each one says.

BOUNCES lists, for each real bounce, the addresses it reports as failed for good and for now. It
follows flufl.bounce's own expectations for the same files (flufl/bounce/tests/test_detectors.py
of github.com/wRAR/flufl.bounce, where the files come from), completed from the messages
themselves where that table is silent: sendmail_02.txt and simple_38.txt name one address each,
sendmail_01.txt also names the address the failed one expanded to, dsn_16.txt also reports a
delay for a second address, and bounce_01.txt ("dylan", no domain) and dumbass_01.txt name
nobody."""

from __future__ import annotations

from pathlib import Path
from string import Template

from tests.support.shared_data import shared_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mailbox"


def fixture(name: str, **fields: str) -> bytes:
    """A fixture message with its ${fields} filled in and CRLF line ends, as a server holds it."""
    text = Template((FIXTURES / name).read_text("utf-8")).substitute(fields)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def real_bounce(name: str) -> bytes:
    return shared_data("bounces", name).read_bytes()


def real_bounce_names() -> list[str]:
    return sorted(path.name for path in shared_data("bounces").glob("*.txt"))


P, T = "permanent", "temporary"

BOUNCES: dict[str, dict[str, str]] = {
    "aol_01.txt": {"screenname@aol.com": P},
    "bounce_01.txt": {},
    "bounce_02.txt": {"acinsp1@midsouth.rr.com": P},
    "bounce_03.txt": {"james@jeborall.demon.co.uk": P},
    "dsn_01.txt": {"JimmyMcEgypt@go.com": P},
    "dsn_02.txt": {"zzzzz@zeus.hud.ac.uk": P},
    "dsn_03.txt": {"ddd.kkk@advalvas.be": P},
    "dsn_04.txt": {"max.haas@unibas.ch": P},
    "dsn_05.txt": {"pkocmid@atlas.cz": T},
    "dsn_06.txt": {"hao-nghi.au@fr.thalesgroup.com": T},
    "dsn_07.txt": {"david.farrar@parliament.govt.nz": T},
    "dsn_08.txt": {"news-list.zope@localhost.bln.innominate.de": T},
    "dsn_09.txt": {"pr@allen-heath.com": P},
    "dsn_10.txt": {"anne.person@dom.ain": P},
    "dsn_11.txt": {"joem@example.com": P},
    "dsn_12.txt": {"auaauqdgrdz@jtc-con.co.jp": P},
    "dsn_13.txt": {"marcooherbst@cardinal.com": P},
    "dsn_14.txt": {"artboardregistration@home.dk": P},
    "dsn_15.txt": {"horu@ccc-ces.com": P},
    "dsn_16.txt": {"hishealinghand@pastors.com": P, "spam@michael-mueller-verlag.de": T},
    "dsn_17.txt": {"christine.barsas@sivarikeskus.fi": T},
    "dumbass_01.txt": {},
    "exim_01.txt": {"delangen@its.tudelft.nl": P},
    "groupwise_01.txt": {"thoff@MAINEX1.ASU.EDU": P},
    "groupwise_02.txt": {"omarmo@thebas.com": P},
    "hotpop_01.txt": {"allensmithee@hotpop.com": P},
    "llnl_01.txt": {"trotts1@llnl.gov": P},
    "microsoft_01.txt": {"DJBENNETT@IKON.COM": P},
    "microsoft_02.txt": {"MDMOORE@BALL.COM": P},
    "microsoft_03.txt": {"midica@banknbr.com": P},
    "netscape_01.txt": {"aaaaa@corel.com": P, "bbbbb@corel.com": P},
    "newmailru_01.txt": {"zzzzz@newmail.ru": P},
    "postfix_01.txt": {"xxxxx@local.ie": P},
    "postfix_02.txt": {"yyyyy@digicool.com": P},
    "postfix_03.txt": {"ttttt@ggggg.com": P},
    "postfix_04.txt": {"davidlowie@mail1.keftamail.com": P},
    "postfix_05.txt": {"bjelf@detectit.net": P},
    "qmail_01.txt": {"psadisc@wwwmail.n-h.de": P},
    "qmail_02.txt": {"rauschlo@frontfin.com": P},
    "qmail_03.txt": {"crown@hbc.co.jp": P},
    "qmail_04.txt": {"merotiia@tennisnsw.com.au": P},
    "qmail_05.txt": {"ivokggrrdvc@caixaforte.freeservers.com": P},
    "qmail_06.txt": {"ntl@xxx.com": P},
    "qmail_07.txt": {"user@example.net": P},
    "sendmail_01.txt": {"zzzzz@nfg.nl": P, "zzzzz@shaft.coal.nl": P},
    "sendmail_02.txt": {"foo@rbd.spb.ru": P},
    "simple_01.txt": {"bbbsss@turbosport.com": P},
    "simple_02.txt": {"chris.ggggmmmm@usa.net": P},
    "simple_03.txt": {"jacobus@geo.co.za": T},
    "simple_04.txt": {"claird@starbase.neosoft.com": P},
    "simple_05.txt": {"rlosardo@sbcglobal.net": P},
    "simple_06.txt": {"dlyle@hamiltonpacific.com": P},
    "simple_07.txt": {"william.xxxx@sbcglobal.net": P},
    "simple_08.txt": {"severin.XXX@t-online.de": P},
    "simple_09.txt": {"RobotMail@auto-walther.de": P},
    "simple_10.txt": {"sais@thehartford.com": P},
    "simple_11.txt": {"carlosr73@hartfordlife.com": P},
    "simple_12.txt": {"charrogar@rhine1.andrew.ac.jp": P},
    "simple_13.txt": {"dycusibreix@ademe.fr": P},
    "simple_14.txt": {"dump@dachamp.com": P, "iqxwmmfauudpo@dachamp.com": P},
    "simple_15.txt": {"isam@kviv.be": P},
    "simple_16.txt": {"xvlogtfsei@the-messenger.com": P},
    "simple_17.txt": {"internetsailing@gmail.com": P},
    "simple_18.txt": {"powell@kesslersupply.com": P},
    "simple_19.txt": {"mcfall@cepi.com.ar": P},
    "simple_20.txt": {"duke@ald.socgen.com": P},
    "simple_21.txt": {"assumpeatman@dsgmfg.com": T},
    "simple_22.txt": {"RLipton@prev.org": T},
    "simple_23.txt": {"ketchuy@dadoservice.it": P},
    "simple_24.txt": {"liberty@gomaps.com": P},
    "simple_25.txt": {"mahau@cnbearing.com": P},
    "simple_26.txt": {"reilizavet@lar.ieo.it": P},
    "simple_27.txt": {"kulp@webmail.pla.net.py": P},
    "simple_28.txt": {"luis.hiam@gmail.com": T},
    "simple_29.txt": {"thilakayi_bing@landshire.com": P},
    "simple_30.txt": {"wmnqicorpat@nqicorp.com": P},
    "simple_31.txt": {"nmorel@actisce.fr": P},
    "simple_32.txt": {"teteyn@agence-forbin.com": P},
    "simple_33.txt": {"hmu@extralumin.com": P},
    "simple_34.txt": {"roland@xxx.com": P},
    "simple_35.txt": {"calvin@xxx.com": T},
    "simple_36.txt": {"garyt@xxx.com": P},
    "simple_37.txt": {"user@uci.edu": P},
    "simple_38.txt": {"foo@mail.ru": P},
    "sina_01.txt": {"boboman76@sina.com": P, "alan_t18@sina.com": P},
    "smtp32_01.txt": {"oliver@pcworld.com.ph": P},
    "smtp32_02.txt": {"lists@mail.spicynoodles.com": P},
    "smtp32_03.txt": {"borisk@gw.xraymedia.com": P},
    "smtp32_04.txt": {"after_another@pacbell.net": P, "one_bad_address@pacbell.net": P},
    "smtp32_05.txt": {"jmrpowersports@jmrpowersports.com": P},
    "smtp32_06.txt": {"Absolute_garbage_addr@pacbell.net": P},
    "smtp32_07.txt": {"info@husbyran.com": P},
    "yahoo_01.txt": {"subscribe.motorcycles@listsociety.com": P},
    "yahoo_02.txt": {"agarciamartiartu@yahoo.es": P},
    "yahoo_03.txt": {"cresus22@yahoo.com": P},
    "yahoo_04.txt": {"agarciamartiartu@yahoo.es": P, "open00now@yahoo.co.uk": P},
    "yahoo_05.txt": {"cresus22@yahoo.com": P, "jjb700@yahoo.com": P},
    "yahoo_06.txt": {
        "andrew_polevoy@yahoo.com": P,
        "baruch_sterin@yahoo.com": P,
        "rjhoeks@yahoo.com": P,
        "tritonrugger91@yahoo.com": P,
    },
    "yahoo_07.txt": {
        "mark1960_1998@yahoo.com": P,
        "ovchenkov@yahoo.com": P,
        "tsa412@yahoo.com": P,
        "vaxheadroom@yahoo.com": P,
    },
    "yahoo_08.txt": {
        "chatrathis@yahoo.com": P,
        "crownjules01@yahoo.com": P,
        "cwl_999@yahoo.com": P,
        "eichaiwiu@yahoo.com": P,
        "rjhoeks@yahoo.com": P,
        "yuli_kolesnikov@yahoo.com": P,
    },
    "yahoo_09.txt": {"hankel_o_fung@yahoo.com": P, "ultravirus2001@yahoo.com": P},
    "yahoo_10.txt": {
        "jajcchoo@yahoo.com": P,
        "lyons94706@yahoo.com": P,
        "turtle4jne@yahoo.com": P,
    },
    "yale_01.txt": {"thomas.dtankengine@cs.yale.edu": P, "thomas.dtankengine@yale.edu": P},
}

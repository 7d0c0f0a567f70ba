"""The bounce mailbox (`digest mailbox`): the messages that come back to the newsletter's
addresses (bounces, complaint reports, unsubscribe requests to the mailto address), read one pass
at a time, each turned into the status it asks for and marked so no pass reads it twice.

- `location`, `folders`, `imap`, `maildir`: where the mailbox is and how it is read and marked;
- `classify`, with `bounces` (flufl.bounce), `arf`, `mailto` and `evidence`: what a message is
  and whom it concerns;
- `verp`: the signed envelope senders that name a bounce's delivery;
- `events`: the bounce and complaint events in the state database;
- `run`: one pass, from the mailbox to the subscribers' statuses.
"""

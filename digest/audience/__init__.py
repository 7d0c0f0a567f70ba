"""The audience: who the newsletter goes to, how they join and how they leave.

- `store`: the subscribers table (status, dates, proof of consent) and the one call that stops
  mail to an address (`SubscriberStore.set_status`);
- `status`: what a row says about a person (status, source, proof of consent);
- `csv_import`: the operator's CSV list (a plain list, or an export of digest's own with
  statuses) and suppression list, read as streams;
- `address`: addresses as digest stores and sends to them;
- `mail`: the emails a person gets from the site (confirmation, welcome);
- `mailbox`: the bounce mailbox (`digest mailbox`): bounces, complaints and unsubscribe emails.
"""

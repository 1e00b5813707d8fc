"""Signed HTTP webhooks: the Standard Webhooks signing scheme, shared by the ``webhook`` channel (attempts POSTed
to a telephony or SMS provider, results POSTed back) and the outbound event webhooks of a project."""

"""Mail: building messages (``message``) and sending them (``transport``)."""

"""Email channel over SMTP (see docs/integrations/email.md)."""

from koban.channels.email.channel import EmailChannel
from koban.channels.email.render import build_email

__all__ = ["EmailChannel", "build_email"]

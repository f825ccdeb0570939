"""Mail text: turns one raw RFC 822 mail into the line of text the spam classifier sees.

Keeps the Subject and the decoded body (text/plain parts, and text/html parts with the tags
removed), drops every other header, lowercases, collapses whitespace and caps the length, so
training, the held-out check and a client calling the served model all see the same kind of text.

    from mailtext import mail_to_text
    text = mail_to_text(open("spam-1/00001.x.txt", "rb").read())
    # 'subject: save up to 70% on life insurance why spend more than you have to ...'
"""

import email
import email.policy
import html
import re

MAX_CHARS = 2000

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)
_SPACE = re.compile(r"\s+")


def _decode(part) -> str:
    raw = part.get_payload(decode=True)
    if raw is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name in the header
        return raw.decode("latin-1", errors="replace")


def _body(msg) -> str:
    pieces = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            pieces.append(_decode(part))
        elif ctype == "text/html":
            pieces.append(html.unescape(_TAG.sub(" ", _decode(part))))
    return "\n".join(pieces)


def normalize(text: str, max_chars: int = MAX_CHARS) -> str:
    """Lowercase, one space between words, at most max_chars characters (cut at a word end)."""
    text = _SPACE.sub(" ", text.lower()).strip()
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0]
    return text


def mail_to_text(raw: bytes, max_chars: int = MAX_CHARS) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = msg.get("Subject", "")
    try:
        subject = str(email.header.make_header(email.header.decode_header(subject)))
    except Exception:  # malformed encoded words: keep the header as it is
        subject = str(subject)
    return normalize(f"subject: {subject} {_body(msg)}", max_chars)

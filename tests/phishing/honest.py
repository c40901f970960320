"""A generated corpus of honest mail, English and French: newsletters (HTML, links,
unsubscribe), invoices and receipts (amounts, services, due dates), replies in a thread
(quoted text), the provider's own authenticated notices, and mailing-list traffic with a
Reply-To to the list. Some go to the watched contacts: honest mail reaches them too."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

RECIPIENTS = (
    "ann@ministry.example",  # watched
    "elodie@fromagerie.example",  # watched
    "zed@untouched.example",
    "team@startup.example",
)
VENDORS = (
    ("Papeterie Durand", "factures@papeterie-durand.example", "fr"),
    ("Acme Office Supplies", "billing@acme-office.example", "en"),
    ("Northwind Telecom", "invoices@northwind.example", "en"),
    ("Énergie Verte", "clients@energie-verte.example", "fr"),
)
NEWSLETTERS = (
    ("The Weekly Byte", "news@weeklybyte.example", "en"),
    ("Cuisine & Saisons", "lettre@cuisine-saisons.example", "fr"),
    ("Open Source Digest", "digest@osdigest.example", "en"),
)


def _base(sender: str, to: str, subject: str, when: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    return message


def _invoice(rng: random.Random, to: str, when: datetime) -> EmailMessage:
    name, address, language = rng.choice(VENDORS)
    amount = rng.randint(20, 5000) + rng.choice((0, 0.5, 0.99))
    number = rng.randint(10000, 99999)
    if language == "fr":
        subject = f"Votre facture n° {number}"
        text = (
            f"Bonjour,\n\nVeuillez trouver ci-joint votre facture n° {number} d'un montant de "
            f"{amount:.2f} EUR, payable à 30 jours par prélèvement sur le compte habituel.\n"
            "Le paiement sera prélevé automatiquement. Merci de votre confiance.\n\n"
            f"{name}\n"
        )
    else:
        subject = f"Invoice #{number} from {name}"
        text = (
            f"Hello,\n\nYour invoice #{number} for {amount:,.2f} USD is attached. Payment is "
            "due within 30 days and will be charged to the card on file.\n"
            "Questions? Just reply to this message.\n\n"
            f"{name} accounts team\n"
        )
    message = _base(f"{name} <{address}>", to, subject, when)
    message.set_content(text)
    message.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename=f"invoice-{number}.pdf"
    )
    return message


def _newsletter(rng: random.Random, to: str, when: datetime) -> EmailMessage:
    name, address, language = rng.choice(NEWSLETTERS)
    domain = address.rpartition("@")[2]
    links = [f"https://{domain}/articles/{rng.randint(1, 999)}" for _ in range(rng.randint(2, 8))]
    if language == "fr":
        subject, lead, unsub = "Les nouvelles de la semaine", "Au sommaire", "Se désinscrire"
    else:
        subject, lead, unsub = "This week's stories", "In this issue", "Unsubscribe"
    message = _base(f"{name} <{address}>", to, subject, when)
    message["List-Unsubscribe"] = f"<https://{domain}/unsubscribe>"
    message["Return-Path"] = f"<bounces+{rng.randint(1, 9999)}@mail.{domain}>"
    message.set_content(f"{lead}:\n" + "\n".join(links) + f"\n\n{unsub}: https://{domain}/u")
    items = "".join(f'<li><a href="{link}">Story {i}</a></li>' for i, link in enumerate(links))
    message.add_alternative(
        f"<html><body><h1>{lead}</h1><ul>{items}</ul>"
        f'<p><a href="https://{domain}/unsubscribe">{unsub}</a></p></body></html>',
        subtype="html",
    )
    return message


def _reply(rng: random.Random, to: str, when: datetime) -> EmailMessage:
    colleague = rng.choice(
        ("marc@ministry.example", "lea@fromagerie.example", "sam@startup.example")
    )
    french = colleague.endswith("fromagerie.example")
    subject = "Re: réunion de jeudi" if french else "Re: Thursday's meeting"
    body = (
        "Parfait, je serai là à 10h. Je t'envoie le compte rendu dès que possible.\n\n"
        "> Peux-tu confirmer ta présence ?\n"
        if french
        else "Sounds good, I'll be there at 10. I'll send the notes as soon as possible.\n\n"
        "> Can you confirm you are coming?\n"
    )
    message = _base(colleague, to, subject, when)
    message["In-Reply-To"] = make_msgid(domain="mail.example")
    message.set_content(body)
    return message


def _provider_notice(rng: random.Random, to: str, when: datetime) -> EmailMessage:
    message = _base("Vigile <noreply@vigile.example>", to, "Your monthly usage report", when)
    message["Authentication-Results"] = (
        "mx.recipient.example; spf=pass smtp.mailfrom=vigile.example; "
        "dkim=pass header.d=vigile.example; dmarc=pass header.from=vigile.example"
    )
    message.set_content(
        "Your usage report for last month is ready: https://console.vigile.example/usage\n"
        "Your invoice will be charged to your card on file."
    )
    return message


def _mailing_list(rng: random.Random, to: str, when: datetime) -> EmailMessage:
    message = _base("Jane Doe <jane@university.example>", to, "[python-fr] Question", when)
    message["Reply-To"] = "python-fr@lists.example"
    message["List-Id"] = "<python-fr.lists.example>"
    message.set_content("Bonjour à tous, quelqu'un a-t-il déjà utilisé asyncio avec SQLAlchemy ?")
    return message


KINDS = (_invoice, _newsletter, _reply, _provider_notice, _mailing_list)


def honest_messages(count: int, seed: int = 3) -> list[tuple[str, bytes]]:
    """``count`` honest messages, as (a name, the bytes)."""
    rng = random.Random(seed)
    start = datetime(2021, 6, 1, tzinfo=UTC)
    found: list[tuple[str, bytes]] = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        message = kind(rng, rng.choice(RECIPIENTS), start + timedelta(hours=index))
        found.append((f"{kind.__name__[1:]}-{index}", message.as_bytes()))
    return found

"""Each cleaning rule, its before/after, and the cases it must leave alone."""

from __future__ import annotations

import pytest
from mailatlas_clean import ParserConfig
from mailatlas_clean.cleaning import clean_text

OFF = ParserConfig(strip_invisible_chars=False, normalize_whitespace=False)


def only(**flags: bool) -> ParserConfig:
    values = dict.fromkeys(OFF.to_dict(), False)
    values.update(flags)
    return ParserConfig(**values)


# -- forwarded headers -------------------------------------------------------------

GMAIL = """FYI, see below.

---------- Forwarded message ---------
From: Carla Gómez <carla@example.net>
Date: Mon, Jan 8, 2024 at 9:15 AM
Subject: Budget
To: Team <team@example.com>

The budget is attached."""

OUTLOOK = """Please handle.

-----Original Message-----
From: Bob Chen [mailto:bob@example.org]
Sent: Monday, January 8, 2024 9:15 AM
To: Team
Subject: Budget

Numbers inside."""

APPLE = """Look at this.

Begin forwarded message:

From: Hiro Tanaka <hiro@example.jp>
Subject: Photos
Date: January 8, 2024 at 9:15:00 AM GMT+1
To: Team <team@example.com>

Photos from the trip."""


@pytest.mark.parametrize(
    ("text", "style", "author", "kept", "gone"),
    [
        (GMAIL, "gmail", "Carla Gómez", "The budget is attached.", "Forwarded message"),
        (OUTLOOK, "outlook", "Bob Chen", "Numbers inside.", "Original Message"),
        (APPLE, "apple", "Hiro Tanaka", "Photos from the trip.", "Begin forwarded"),
    ],
)
def test_forwarded_headers(text: str, style: str, author: str, kept: str, gone: str) -> None:
    detected = clean_text(text, OFF)
    assert detected.text == text  # detection alone changes nothing
    assert [b["style"] for b in detected.forwarded_chain] == [style]
    assert author in detected.forwarded_chain[0]["from"]
    stripped = clean_text(text, only(strip_forwarded_headers=True))
    assert kept in stripped.text
    assert gone not in stripped.text
    assert "Subject:" not in stripped.text
    assert stripped.cleaning["removed_forwarded_headers"] == 1
    assert stripped.cleaning["rules"]["strip_forwarded_headers"]["blocks"] == 1
    assert stripped.cleaning["dropped_line_count"] >= 4


def test_forward_chain_keeps_every_block_outermost_first() -> None:
    text = GMAIL + "\n\n" + OUTLOOK
    result = clean_text(text, only(strip_forwarded_headers=True))
    assert [b["style"] for b in result.forwarded_chain] == ["gmail", "outlook"]
    assert result.cleaning["removed_forwarded_headers"] == 2
    assert "From:" not in result.text


def test_marker_less_outlook_block() -> None:
    text = "Reply here.\n\nFrom: Bob\nSent: Monday, January 8, 2024 9:15 AM\nSubject: Q\n\nBody"
    result = clean_text(text, only(strip_forwarded_headers=True))
    assert result.forwarded_chain[0]["style"] == "outlook"
    assert result.text == "Reply here.\n\nBody"


def test_a_lone_from_line_is_not_a_forward() -> None:
    text = "From: the desk of the CEO\nWe did well this year."
    result = clean_text(text, only(strip_forwarded_headers=True))
    assert result.forwarded_chain == []
    assert result.text == text


# -- boilerplate ---------------------------------------------------------------------


def test_boilerplate_whole_lines_only() -> None:
    text = (
        "View this email in your browser\n"
        "[View online](https://example.com/v)\n"
        "Hello readers,\n"
        "You can view this email in your browser if you prefer, as I said.\n"
        "Forward to a friend\n"
        "Sent from my iPhone"
    )
    result = clean_text(text, only(strip_boilerplate=True))
    assert result.text == (
        "Hello readers,\nYou can view this email in your browser if you prefer, as I said."
    )
    assert result.cleaning["rules"]["strip_boilerplate"]["lines"] == 4
    assert result.cleaning["dropped_line_count"] == 4


@pytest.mark.parametrize(
    "line",
    [
        "READ IN APP",
        "Open in app",
        "Keep reading with a 7-day free trial",
        "Subscribe to The Weekly to keep reading this post and get 7 days of free access"
        " to the full post archives.",
        "Upgrade to paid",
        "Like · Comment · Restack",
        "Share",
        "Forwarded this email? Subscribe here for more",
        "View web version",
        "[View in browser](https://example.com/v)",
        # de
        "Im Browser anzeigen",
        "Diese E-Mail im Browser anzeigen",
        "Wird diese E-Mail nicht richtig angezeigt?",
        "Gesendet von meinem iPhone",
        "Von meinem iPhone gesendet",
        "An einen Freund weiterleiten",
        "Folgen Sie uns auf Instagram",
        "In der App lesen",
        # fr
        "Voir dans le navigateur",
        "Voir cet e-mail dans votre navigateur",
        "Voir la version en ligne",
        "Cet e-mail ne s'affiche pas correctement ?",
        "Envoyé de mon iPhone",
        "Transférer à un ami",
        "Suivez-nous sur LinkedIn",
        "Gérer vos préférences",
        # es
        "Ver en el navegador",
        "Ver este correo en tu navegador",
        "¿No puedes ver este correo correctamente?",
        "Enviado desde mi iPhone",
        "Reenviar a un amigo",
        "Síguenos en Twitter",
        "Gestionar tus preferencias",
    ],
)
def test_boilerplate_newsletter_furniture_goes(line: str) -> None:
    result = clean_text(f"Hello readers,\n{line}\nThe real story.", only(strip_boilerplate=True))
    assert result.text == "Hello readers,\nThe real story."
    record = result.cleaning["rules"]["strip_boilerplate"]
    assert record["lines"] == 1
    assert record["removed"] == [line]
    assert len(record["matched"]) == 1


@pytest.mark.parametrize(
    "line",
    [
        "I read it in the app yesterday and liked the layout.",
        "Share your thoughts on the budget by Friday.",
        "Like I said, the browser version of the tool is slow.",
        "Keep reading: the second half of the report explains the numbers.",
        "Die Webversion des Tools ist langsam, sagt Anna.",
        "Nous avons vu dans le navigateur que le bouton manque.",
        "Ver el informe en el navegador no funciona, dice Ana.",
        "Comment on the draft, please.",
        "Sent from my office after the meeting.",
        "Folgen Sie uns nicht blind: lesen Sie den Bericht selbst.",
    ],
)
def test_boilerplate_keeps_real_sentences(line: str) -> None:
    text = f"Hello readers,\n{line}\nThe real story."
    result = clean_text(text, only(strip_boilerplate=True))
    assert result.text == text
    assert result.cleaning["rules"]["strip_boilerplate"] == {
        "lines": 0,
        "removed": [],
        "matched": [],
    }


# -- link-only lines -------------------------------------------------------------------


def test_link_only_lines_go_to_metadata() -> None:
    text = (
        "Read the story:\n"
        "https://news.example.com/story/1\n"
        "- [Second story](https://news.example.com/story/2)\n"
        "<https://news.example.com/story/3> | <https://news.example.com/story/4>\n"
        "See https://example.com/inline for details, it is in a sentence."
    )
    result = clean_text(text, only(strip_link_only_lines=True))
    assert result.text == (
        "Read the story:\nSee https://example.com/inline for details, it is in a sentence."
    )
    assert result.links == [f"https://news.example.com/story/{n}" for n in (1, 2, 3, 4)]
    assert result.cleaning["rules"]["strip_link_only_lines"]["lines"] == 3


def test_url_inside_a_sentence_stays_even_with_every_rule_on() -> None:
    text = "Hello,\nthe report is at https://example.com/r?id=7 as promised.\nThanks"
    result = clean_text(text, ParserConfig(True, True, True, True))
    assert result.text == text
    assert result.links == []


# -- footer ------------------------------------------------------------------------------


def _long(lines: int) -> list[str]:
    return [f"Paragraph line {n} with real content." for n in range(lines)]


def test_footer_cut_at_unsubscribe_block() -> None:
    body = [
        *_long(6),
        "",
        "You are receiving this email because you subscribed.",
        "Unsubscribe | Preferences",
        "© 2024 Example Ltd. All rights reserved.",
    ]
    result = clean_text("\n".join(body), only(stop_at_footer=True))
    assert result.text == "\n".join(_long(6)) + "\n"
    assert result.cleaning["stopped_at_footer"] is True
    assert result.cleaning["rules"]["stop_at_footer"]["lines"] == 3


def test_footer_cut_at_signature_delimiter() -> None:
    body = [*_long(4), "-- ", "Alice Martin", "ACME Corp"]
    result = clean_text("\n".join(body), only(stop_at_footer=True))
    assert result.text == "\n".join(_long(4))
    assert result.cleaning["stopped_at_footer"] is True


def test_footer_never_in_first_half() -> None:
    body = ["Unsubscribe instructions are below, read them carefully.", *_long(6)]
    text = "\n".join(body)
    result = clean_text(text, only(stop_at_footer=True))
    assert result.text == text
    assert result.cleaning["stopped_at_footer"] is False


QUOTED_LIST_FOOTER = """On Wed, Nov 19, 2014 at 12:11 AM, Levi Morrison <levim@php.net> wrote:

> Dear Internals,
>
> I am proposing an RFC to remove PHP 4 constructors in PHP 7.
>
> Cheers,
> Levi Morrison
>
> --
> PHP Internals - PHP Runtime Development Mailing List
> To unsubscribe, visit: http://www.php.net/unsub.php
>
>
+1 from me."""


def test_footer_never_fires_inside_a_quote() -> None:
    result = clean_text(QUOTED_LIST_FOOTER, only(stop_at_footer=True))
    assert result.text == QUOTED_LIST_FOOTER
    assert result.text.endswith("+1 from me.")
    assert result.cleaning["stopped_at_footer"] is False


def test_footer_never_removes_text_after_the_candidate() -> None:
    body = [
        *_long(4),
        "",
        "Alex asked how to unsubscribe from the old list.",
        "",
        "I think we should make that easier for everyone.",
        "",
        "Thanks,",
        "Bob",
    ]
    text = "\n".join(body)
    result = clean_text(text, only(stop_at_footer=True))
    assert result.text == text
    assert result.cleaning["stopped_at_footer"] is False


def test_footer_signature_followed_by_a_quote_stays() -> None:
    body = [*_long(8), "-- ", "Alice", "", "On Monday Bob wrote:", "> the question", "> more"]
    text = "\n".join(body)
    assert clean_text(text, only(stop_at_footer=True)).text == text


def test_footer_multi_paragraph_footer_is_cut_and_recorded() -> None:
    body = [
        *_long(6),
        "",
        "You are receiving this email because you subscribed.",
        "",
        "Unsubscribe | Preferences",
        "",
        "© 2024 Example Ltd. All rights reserved.",
        "",
    ]
    result = clean_text("\n".join(body), only(stop_at_footer=True))
    assert result.text == "\n".join(_long(6)) + "\n"
    assert result.cleaning["rules"]["stop_at_footer"] == {
        "lines": 5,
        "removed": body[7:12],
    }


def test_footer_negative_cases_stay_intact() -> None:
    text = "\n".join(
        [
            *_long(3),
            "Copyright transfer form attached, please sign it.",
            "Steps:",
            "(a) first item",
            "(b) second item",
            "(c) third item",
            "(d) fourth item",
        ]
    )
    result = clean_text(text, ParserConfig(True, True, True, True))
    assert result.text == text
    assert result.cleaning["stopped_at_footer"] is False


# -- invisible characters ----------------------------------------------------------------


def test_invisible_characters_removed() -> None:
    text = "Zero\u200bwidth \u200eLTR\u200f \u202aembedded\u202c \ufeffbom soft\u00adhyphen"
    result = clean_text(text, only(strip_invisible_chars=True))
    assert result.text == "Zerowidth LTR embedded bom softhyphen"
    assert result.cleaning["rules"]["strip_invisible_chars"]["removed_chars"] == 7


@pytest.mark.parametrize(
    "text",
    [
        "Team: 👩\u200d💻 and 👨\u200d👩\u200d👧 and 🏳\ufe0f\u200d🌈",  # emoji ZWJ sequences
        "می\u200cخواهم به خانه بروم",  # Persian with ZWNJ
        "क्\u200dष and र्\u200c",  # Devanagari joiners between letters
    ],
)
def test_needed_joiners_stay(text: str) -> None:
    result = clean_text(text, only(strip_invisible_chars=True))
    assert result.text == text.replace("र्\u200c", "र्")  # a ZWNJ at a word end goes


def test_zwnj_between_latin_letters_goes() -> None:
    assert clean_text("ab\u200ccd", only(strip_invisible_chars=True)).text == "abcd"


# -- whitespace -----------------------------------------------------------------------------


def test_whitespace_trims_squeezes_and_collapses_padding_only() -> None:
    text = "\n\nHello    world  \n\n\n\n  indented   line\nnext\u00a0\u00a0line\n \t\n\n\n"
    result = clean_text(text, only(normalize_whitespace=True))
    assert result.text == "Hello    world\n\n  indented   line\nnext line"
    counts = result.cleaning["rules"]["normalize_whitespace"]
    assert counts == {"trimmed_lines": 2, "collapsed_runs": 1, "removed_blank_lines": 8}


@pytest.mark.parametrize(
    "line",
    [
        '+\t\tpr_err("failed: %d\\n", ret);',  # a patch line
        "-    if (x)  {",
        ">     indented quoted code",
        "| Name  | Value |",  # a plain-text table
        "Total:      42.00 EUR",  # aligned columns
        "a\tb\tc",
        "10\u00a0€ and 5\u00a0km",  # a lone no-break space is meant
    ],
)
def test_whitespace_never_touches_indentation_or_inner_spacing(line: str) -> None:
    text = f"Patch:\n{line}\nend"
    assert clean_text(text, ParserConfig()).text == text


def test_whitespace_collapses_invisible_padding_and_blank_lines() -> None:
    text = "Preview\u00a0\u200c\u00a0\u200c\u00a0text\n\u00a0\u00a0\n\n\nBody   \u3000\n"
    result = clean_text(text, ParserConfig())
    assert result.text == "Preview text\n\nBody"
    assert result.cleaning["rules"]["normalize_whitespace"]["collapsed_runs"] == 1


def test_defaults_do_not_remove_content() -> None:
    text = GMAIL + "\n\nView this email in your browser\nhttps://x.example/\n-- \nsig"
    result = clean_text(text, ParserConfig())
    assert result.text == text
    assert result.cleaning["dropped_line_count"] == 0
    assert result.links == ["https://x.example/"]
    assert len(result.forwarded_chain) == 1

"""Newsletter boilerplate: whole lines only ("View this email in your browser").

A line is removed only when, after unwrapping a Markdown link and dropping bullets and
trailing punctuation, the *whole* line matches one of the patterns below. A sentence that
merely contains the words stays. The phrases come in English, German, French and Spanish.
"""

from __future__ import annotations

import re

from ._scan import lines_with_keywords

__all__ = ["BOILERPLATE_PATTERNS", "strip_boilerplate"]

_EMAIL = r"(?:e-?mails?|messages?|newsletters?|issues?|posts?)"
_BROWSER = r"(?:(?:your|a|the) )?(?:web ?)?browser"
_DE_MAIL = r"(?:diese[nr]? )?(?:e-?mail|nachricht|newsletter|ausgabe)"
_FR_MAIL = r"(?:(?:cet|cette|ce|l'|la|le) ?)?(?:e-?mail|courriel|message|newsletter|lettre)"
_ES_MAIL = (
    r"(?:(?:este|esta|el|la) )?(?:e-?mail|correo(?: electrónico)?|mensaje|newsletter|boletín)"
)
_DEVICES = (
    r"(?:iphone|ipad|android(?: phone| device)?|mobile(?: device)?|blackberry|galaxy"
    r"|samsung [\w ]{1,30}|windows phone|smartphone|handy|móvil|movil|portable)"
)
BOILERPLATE_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "view_in_browser": r"(?:click here to |please )?(?:view|read|open|see)"
        rf"(?: this| the| it)?(?: {_EMAIL})?"
        rf" (?:online|on (?:the )?web|in {_BROWSER}|as (?:a )?web ?page)"
        r"|(?:view )?(?:the )?(?:web|online|browser) version"
        # de / fr / es
        rf"|(?:{_DE_MAIL} )?(?:im (?:web)?browser|online) (?:anzeigen|ansehen|öffnen|lesen)"
        r"|(?:web|online)-?version(?: anzeigen| ansehen)?"
        rf"|(?:voir|afficher|lire|consulter|ouvrir) (?:{_FR_MAIL} )?"
        r"(?:dans (?:le|votre|un) navigateur|en ligne|sur le web)"
        r"|(?:(?:voir|afficher|consulter) )?(?:la )?version (?:en ligne|web|navigateur)"
        rf"|(?:ver|abrir|leer|mirar) (?:{_ES_MAIL} )?"
        r"(?:en (?:el|tu|su|un) navegador|en l[ií]nea|online|en la web)"
        r"|(?:(?:ver|abrir) )?(?:la )?versi[oó]n (?:web|en l[ií]nea|online|navegador)",
        "trouble_viewing": r"(?:having trouble|problems?|trouble) (?:viewing|reading|seeing)"
        rf" this {_EMAIL}\??(?: view it (?:online|in your browser))?"
        r"|(?:wird )?(?:diese )?(?:e-?mail|nachricht|newsletter) (?:wird )?nicht"
        r" (?:richtig|korrekt) (?:angezeigt|dargestellt)\??"
        r"|(?:cet |ce )?(?:e-?mail|courriel|message) ne s'affiche pas (?:correctement|bien)\s*\??"
        r"|(?:vous )?(?:avez des |rencontrez des )?(?:difficultés|problèmes) (?:pour|à)"
        r" (?:lire|voir) (?:cet |ce )?(?:e-?mail|courriel|message)\s*\??"
        r"|¿?(?:no (?:puedes|puede|logras) ver|problemas para ver) (?:este |el )?"
        r"(?:correo|e-?mail|mensaje)(?: correctamente| bien)?\??",
        "not_displaying": r"(?:is this )?e-?mail not displaying (?:correctly|properly)\??"
        r"(?: view it (?:online|in your browser))?",
        "read_in_app": r"(?:read|open|view|listen|watch|continue) (?:it |this (?:post |story )?)?"
        r"(?:in|on) (?:the |our )?app"
        r"|(?:in der app|in app) (?:lesen|öffnen|ansehen)"
        r"|(?:lire|ouvrir) dans l'app(?:lication)?"
        r"|(?:leer|abrir) en la app(?:licación)?",
        "paywall": r"keep reading with a \d{1,3}-day free trial"
        r"|subscribe to [^.]{1,80} to keep reading this post"
        r"(?: and get \d{1,3} days of free access to the full post archives)?"
        r"|(?:upgrade|subscribe|switch) to paid(?: subscription)?"
        r"|start (?:a |your )?(?:\d{1,3}-day )?free trial"
        r"|(?:this post is for paid subscribers|already a paid subscriber\? sign in)",
        "forwarded_subscribe": r"(?:was )?(?:this email |this )?forwarded (?:to you|this email)\??"
        r"(?: (?:sign up|subscribe)(?: here)?(?: for more)?)?"
        r"|(?:sign up|subscribe) here for more",
        "action_bar": r"(?:like|comment|restack|share|reply)"
        r"(?:(?:\s*+[·|•,/-])?\s*+(?:like|comment|restack|share|reply)){1,4}"
        r"|(?:share|restack|share this post)",
        "forward_to_friend": r"forward (?:this (?:e-?mail |message )?)?to a friend"
        r"|(?:an (?:einen freund|eine freundin|freunde) weiterleiten|weiterempfehlen)"
        r"|(?:transférer|transmettre|envoyer) (?:à|a) un(?:e)? ami(?:e)?"
        r"|(?:reenviar|enviar) a un(?:a)? amig[oa]",
        "address_book": r"(?:to ensure (?:delivery|you receive our e-?mails),? )?"
        r"(?:please )?add [^ ]+(?: [^ ]+){0,3} to your (?:address book|contacts"
        r"|safe senders? list|whitelist)",
        "preferences": r"(?:update|manage|change|edit) (?:your )?(?:e-?mail |subscription"
        r" |notification |communication )?(?:preferences|settings)"
        r"|(?:e-?mail-|newsletter-)?einstellungen (?:verwalten|ändern|anpassen)"
        r"|(?:gérer|modifier) (?:vos|mes) (?:préférences|paramètres)"
        r"|(?:gestionar|administrar|cambiar|actualizar) (?:tus|sus|mis) (?:preferencias|ajustes)",
        "follow_us": r"(?:follow|connect with|find|like) us(?: on [\w ,&+]{1,60})?"
        r"|(?:folge|folgt|folgen sie) uns(?: auf [\w ,&+]{1,60})?"
        r"|(?:suivez|rejoignez)-nous(?: sur [\w ,&+]{1,60})?"
        r"|s[ií]guenos(?: en [\w ,&+]{1,60})?",
        "share": r"share (?:this|on) (?:facebook|twitter|x|linkedin|whatsapp|e-?mail)",
        "get_the_app": r"(?:download|get) (?:our|the) (?:mobile )?app",
        "sent_from_device": rf"sent from my {_DEVICES}"
        rf"|(?:von meinem {_DEVICES} gesendet|gesendet von meinem {_DEVICES})"
        rf"|envoyé (?:de|depuis) mon {_DEVICES}"
        rf"|enviado desde mi {_DEVICES}",
    }.items()
}
# One alternation with a group per rule, so each line costs a single regex call and the
# match says which rule fired.
_ANY = re.compile("|".join(f"(?P<{n}>{p.pattern})" for n, p in BOILERPLATE_PATTERNS.items()), re.I)
# Every pattern above needs one of these words (lower-case).
_KEYWORDS = (
    "browser", "online", "viewing", "reading", "seeing", "displaying", "friend",
    "address book", "contacts", "safe sender", "whitelist", "preferences", "settings",
    "follow", "connect", "find us", "like", "share", "app", "sent from", "web", "trial",
    "paid", "forwarded", "subscribe", "comment", "restack", "reply",
    "anzeig", "ansehen", "nachricht", "freund", "weiterempf", "einstellungen", "folg",
    "gesendet", "navigat", "navega", "angezeigt", "dargestellt", "en ligne", "affiche",
    " ami", "préférences", "paramètres",
    "-nous", "envoyé", "en línea", "en linea", "versión", "version", "correo", "amig",
    "preferencias", "ajustes", "guenos", "enviado",
)  # fmt: skip
_MD_LINK_LINE = re.compile(r"^\[([^\]]+)\]\([^)]*\)$")
# Bullets before and punctuation after a line: stripped with str methods (linear; a
# regex "[...]+$" rescans a long inner run of spaces from each of its positions).
_LEAD = " \t\r\n\f\v\u00a0-*•·|>»"
_TRAIL = " \t\r\n\f\v\u00a0.!:»>→|"
_MAX_LENGTH = 160


def _edges(text: str) -> str:
    return text.lstrip(_LEAD).rstrip(_TRAIL)


def _normalised(line: str) -> str:
    text = _edges(line)
    match = _MD_LINK_LINE.match(text)
    if match:
        text = _edges(match.group(1))
    return text


def _rule(line: str) -> str | None:
    if len(line) > _MAX_LENGTH:
        return None
    match = _ANY.fullmatch(_normalised(line))
    return match.lastgroup if match else None


def strip_boilerplate(lines: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    """Remove boilerplate lines; returns the kept lines and, for each removed line, the
    rule that matched and the line (``{"rule", "line"}``)."""
    removed: dict[int, str] = {}
    for index in lines_with_keywords(lines, _KEYWORDS):
        rule = _rule(lines[index])
        if rule is not None:
            removed[index] = rule
    if not removed:
        return lines, []
    kept = [line for i, line in enumerate(lines) if i not in removed]
    return kept, [{"rule": removed[i], "line": lines[i]} for i in sorted(removed)]

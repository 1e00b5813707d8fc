"""The ``rubric`` scorer: offline, deterministic, fast.

Each criterion of the goal's rubric measures one thing (see `outboundql.goals.MEASURES`) and
evaluates to a value in [0, 1], or None when the data to judge it is missing. The score is 10 ×
the weighted mean over the criteria that apply, minus a penalty when the persona's exclusions show
up, nudged toward reviewed examples the account resembles. A criterion the persona says nothing
about does not apply; one the account has no data for counts as neutral (`UNKNOWN_VALUE`), so a
sparse account is not ranked above accounts whose data was actually checked. Every reason is one typed justification
rendered in the requested language.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from outboundql.goals.api import (
    ALWAYS_HARD,
    MEASURES,
    OVERRIDE_FLAGS,
    AccountFacts,
    Block,
    Criterion,
    Goal,
    Persona,
    Product,
)
from outboundql.scoring.descriptions import describe_criterion
from outboundql.scoring.i18n import translate
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot

MODERATE_FROM = 5.0
EXCELLENT_FROM = 8.0
FIT_FROM = 0.7
GAP_BELOW = 0.3
#: What a criterion counts for when the account lacks the data to judge it: neither fit nor gap.
UNKNOWN_VALUE = 0.5
#: Points taken off when an exclusion of the persona appears in the account.
EXCLUSION_PENALTY = 2.0
#: The feedback nudge moves a score by at most this many points.
MAX_NUDGE = 1.0
MAX_EXAMPLES_PER_SIDE = 5

_STOPWORDS = frozenset({
    "a", "an", "and", "the", "of", "for", "in", "on", "at", "to", "by", "with", "from", "or", "de", "del",
    "la", "el", "los", "las", "y", "en", "et", "du", "des", "le", "les", "und", "der", "die", "das", "fur",
    "von", "i",
})


#: Every msgid marked with `N_` in this module (tests check the catalogs hold them all).
MARKED: set[str] = set()


def N_(msgid: str) -> str:  # the gettext marker for extractable strings
    MARKED.add(msgid)
    return msgid


@dataclass(frozen=True, slots=True)
class Justification:
    kind: str  # fit | gap | risk | missing_data
    criterion: str
    text: str


@dataclass(frozen=True, slots=True)
class RubricScore:
    score: float
    band: str
    justifications: tuple[Justification, ...]


def band(score: float) -> str:
    """``mismatch`` < 5.0 ≤ ``moderate`` < 8.0 ≤ ``excellent``."""
    if score >= EXCELLENT_FROM:
        return "excellent"
    if score >= MODERATE_FROM:
        return "moderate"
    return "mismatch"


# --- text folding -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16_384)  # persona terms and common values recur across a run
def fold(text: str | None) -> str:
    """Lowercase, accent-free, punctuation as spaces: ``"Logística & Last-Mile"`` → ``"logistica last mile"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['\u2019\u02bc]", "", plain)
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


@functools.lru_cache(maxsize=16_384)
def tokens(text: str | None) -> tuple[str, ...]:
    return tuple(_stem(t) for t in fold(text).split())


def _content(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w for w in words if w not in _STOPWORDS)


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    if n == 0:
        return False
    return any(tuple(haystack[i : i + n]) == tuple(phrase) for i in range(len(haystack) - n + 1))


def _text_values(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in sorted(value, key=str):
            yield str(key)
            yield from _text_values(value[key])
    elif isinstance(value, list | tuple | set | frozenset):
        for item in sorted(value, key=str) if isinstance(value, set | frozenset) else value:
            yield from _text_values(item)


def account_text(account: AccountSnapshot) -> tuple[str, ...]:
    """Tokens of the description, industry and custom fields (keys and string values)."""
    parts = [account.description or "", account.industry or "", *_text_values(account.custom_fields)]
    out: list[str] = []
    for part in parts:
        out.extend(tokens(part))
        out.append("\x00")  # phrases never span two fields
    return tuple(out)


def _similarity(a: str, b: str) -> float:
    """1.0 when one phrase contains the other, else the share of ``b``'s content words found in ``a``."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    if contains_phrase(ta, tb) or contains_phrase(tb, ta):
        return 1.0
    wanted = _content(tb)
    return len(_content(ta) & wanted) / len(wanted) if wanted else 0.0


# --- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    value: float | None
    shown: str = ""
    expected: str = ""
    missing: str = "account"  # for value None: "account" | "persona"
    #: A measure-specific message and kind, overriding the generic fit / partial / gap wording.
    msgid: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class _Inputs:
    goal: Goal
    persona: Persona
    product: Product
    account: AccountSnapshot
    contacts: Sequence[ContactSnapshot]
    today: date


def _best(candidates: Iterable[str], wanted: Sequence[str]) -> tuple[float, str]:
    best, shown = 0.0, ""
    for candidate in candidates:
        for target in wanted:
            sim = _similarity(candidate, target)
            if sim > best:
                best, shown = sim, candidate
    return best, shown


def _industry(x: _Inputs) -> Evaluation:
    if not x.persona.industries:
        return Evaluation(None, missing="persona")
    if not (x.account.industry or "").strip():
        return Evaluation(None)
    value, _ = _best([x.account.industry or ""], x.persona.industries)
    return Evaluation(value, x.account.industry or "", ", ".join(x.persona.industries))


def _company_size(x: _Inputs) -> Evaluation:
    low, high = x.persona.company_size_min, x.persona.company_size_max
    if low is None and high is None:
        return Evaluation(None, missing="persona")
    count = x.account.employee_count
    if count is None:
        return Evaluation(None)
    expected = f"{low if low is not None else 0}–{high if high is not None else '∞'}"
    if low is not None and count < low:
        value = max(count, 0) / low if low > 0 else 0.0
    elif high is not None and count > high:
        value = high / count
    else:
        value = 1.0
    return Evaluation(value, str(count), expected)


def _country(x: _Inputs) -> Evaluation:
    if not x.persona.countries:
        return Evaluation(None, missing="persona")
    country = (x.account.country or "").strip().upper()
    if not country:
        return Evaluation(None)
    wanted = {c.strip().upper() for c in x.persona.countries}
    return Evaluation(1.0 if country in wanted else 0.0, country, ", ".join(sorted(wanted)))


#: At most this many of the product's own words stand in for a persona without keywords.
MAX_PRODUCT_TERMS = 12


def product_terms(product: Product) -> tuple[str, ...]:
    """The product's content words (name and description), for a persona that names no keywords."""
    words = [w for w in tokens(f"{product.name} {product.description}") if len(w) >= 4 and w not in _STOPWORDS]
    return tuple(dict.fromkeys(words))[:MAX_PRODUCT_TERMS]


def _keywords(x: _Inputs) -> Evaluation:
    keywords = [k for k in dict.fromkeys(x.persona.keywords) if tokens(k)]
    from_product = not keywords
    if from_product:
        keywords = list(product_terms(x.product))  # the product's own words say what the account should need
    if not keywords:
        return Evaluation(None, missing="persona")
    if not fold(x.account.description) and not any(fold(v) for v in _text_values(x.account.custom_fields)):
        return Evaluation(None)  # the industry alone is too thin to judge needs by
    text = account_text(x.account)
    found = [k for k in keywords if contains_phrase(text, tokens(k))]
    # Half the persona's keywords is a full match; a product's words are looser, a quarter of them is.
    needed = max(1, (len(keywords) + 3) // 4 if from_product else (len(keywords) + 1) // 2)
    value = min(1.0, len(found) / needed)
    shown = f"{len(found)}/{len(keywords)}" + (f" ({', '.join(found)})" if found else "")
    return Evaluation(value, shown, ", ".join(keywords))


def _job_titles(x: _Inputs) -> Evaluation:
    if not x.persona.job_titles:
        return Evaluation(None, missing="persona")
    titles = [c.title for c in x.contacts if c.title and c.title.strip()]
    if not titles:
        return Evaluation(None)
    value, shown = _best(titles, x.persona.job_titles)
    return Evaluation(value, shown or titles[0], ", ".join(x.persona.job_titles))


def _role_kind(x: _Inputs) -> Evaluation:
    kind = x.goal.target_role_kind
    if kind is None:
        return Evaluation(None, missing="persona")
    if not x.contacts:
        return Evaluation(None)
    if any(c.role_kind == kind for c in x.contacts):
        return Evaluation(1.0, kind, kind, msgid=N_("{criterion}: yes, one of its contacts has the role {value}."))
    return Evaluation(0.0, kind, kind, msgid=N_("{criterion}: no, none of its contacts has the role {value}."))


def _facts(x: _Inputs) -> AccountFacts:
    return AccountFacts(
        status=x.account.status,
        contract_end_date=x.account.contract_end_date,
        contact_role_kinds=frozenset(c.role_kind for c in x.contacts),
    )


def _block(goal: Goal, status: str) -> Block:
    """The goal's rule for ``status``, with the host's defaults for statuses the goal leaves out."""
    rule = goal.guardrails.get(status)
    if rule is not None:
        return rule.block
    if status in ALWAYS_HARD:
        return Block.HARD
    return Block.SOFT if status in OVERRIDE_FLAGS else Block.ALLOWED


def _status(x: _Inputs) -> Evaluation:
    status = (x.account.status or "").strip()
    if not status:
        return Evaluation(None)
    block = _block(x.goal, status)
    if block is Block.TARGET:
        return Evaluation(1.0, status, msgid=N_("{criterion}: yes, status {value} is this goal's target audience."))
    if x.goal.is_target(x.goal, _facts(x), x.today):  # the goal's own test, not a status rule: said so
        return Evaluation(1.0, status, msgid=N_("{criterion}: yes, the account is in this goal's target audience by "
                                                "the goal's own test (status {value})."))
    if block is Block.ALLOWED:
        return Evaluation(0.5, status, kind="gap", msgid=N_("{criterion}: partly, status {value} is allowed but not "
                                                            "this goal's target audience."))
    return Evaluation(0.0, status, msgid=N_("{criterion}: no, status {value} is blocked for this goal."))


def _contract_window(x: _Inputs) -> Evaluation:
    end = x.account.contract_end_date
    if end is None:
        return Evaluation(None)
    if x.goal.is_target(x.goal, _facts(x), x.today):
        return Evaluation(1.0, end.isoformat(), msgid=N_("{criterion}: yes, the contract ends on {value}, within "
                                                         "the renewal window."))
    return Evaluation(0.0, end.isoformat(), msgid=N_("{criterion}: no, the contract ends on {value}, outside the "
                                                     "renewal window."))


def _exclusions(x: _Inputs) -> Evaluation:
    exclusions = [e for e in dict.fromkeys(x.persona.exclusions) if tokens(e)]
    if not exclusions:
        return Evaluation(None, missing="persona")
    text = (*account_text(x.account), "\x00", *tokens(x.account.name))
    if not any(t != "\x00" for t in text):
        return Evaluation(None)
    found = [e for e in exclusions if contains_phrase(text, tokens(e))]
    if found:
        return Evaluation(0.0, ", ".join(found), kind="risk",
                          msgid=N_("{criterion}: no, the account mentions an exclusion: {value}."))
    return Evaluation(1.0, msgid=N_("{criterion}: yes, none of the persona's exclusions appear in the account."))


EVALUATORS: Mapping[str, Callable[[_Inputs], Evaluation]] = {
    "industry": _industry,
    "company_size": _company_size,
    "country": _country,
    "keywords": _keywords,
    "job_titles": _job_titles,
    "role_kind": _role_kind,
    "status": _status,
    "contract_window": _contract_window,
    "exclusions": _exclusions,
}
assert set(EVALUATORS) == set(MEASURES), "every measure needs an evaluator"

#: Translatable names of the measures, shown in the generic reasons.
MEASURE_LABELS: Mapping[str, str] = {
    "industry": N_("industry"),
    "company_size": N_("company size"),
    "country": N_("country"),
    "keywords": N_("keywords"),
    "job_titles": N_("contact titles"),
    "role_kind": N_("contact roles"),
    "status": N_("status"),
    "contract_window": N_("contract end date"),
    "exclusions": N_("exclusions"),
}

# A reason names the criterion by its description (see `outboundql.scoring.descriptions`), answers it, and says
# what the answer rests on: "Operates in an industry the persona targets: yes (industry: Logistics)."
FIT = N_("{criterion}: yes ({measure}: {value}).")
PARTIAL = N_("{criterion}: partly ({measure}: {value}; the persona expects {expected}).")
GAP = N_("{criterion}: no ({measure}: {value}; the persona expects {expected}).")
MISSING_ACCOUNT = N_("{criterion}: unknown, the account has no data on {measure}.")
MISSING_PERSONA = N_("{criterion}: not checked, the persona defines no {measure}.")
FEEDBACK_APPROVED = N_("Resembles accounts approved before ({value} points).")
FEEDBACK_REJECTED = N_("Resembles accounts rejected before ({value} points).")
#: The ``criterion`` of the reason for the feedback nudge (its text names no criterion).
FEEDBACK = "feedback"


def _justify(criterion: Criterion, ev: Evaluation, language: str) -> Justification:
    measure = translate(language, MEASURE_LABELS[criterion.measure])
    fields = {"criterion": describe_criterion(criterion, language), "measure": measure, "value": ev.shown,
              "expected": ev.expected}
    if ev.value is None:
        msgid = MISSING_PERSONA if ev.missing == "persona" else MISSING_ACCOUNT
        return Justification("missing_data", criterion.key, translate(language, msgid, **fields))
    if ev.value >= FIT_FROM:
        kind, msgid = "fit", FIT
    elif ev.value < GAP_BELOW:
        kind, msgid = "gap", GAP
    else:
        kind, msgid = ("fit" if ev.value >= 0.5 else "gap"), PARTIAL
    return Justification(ev.kind or kind, criterion.key, translate(language, ev.msgid or msgid, **fields))


# --- feedback -------------------------------------------------------------------------------------


def _size_bucket(count: int | None) -> str | None:
    if count is None:
        return None
    for limit, name in ((10, "1-10"), (50, "11-50"), (200, "51-200"), (1000, "201-1000"), (5000, "1001-5000")):
        if count <= limit:
            return name
    return "5000+"


def features(account: AccountSnapshot) -> frozenset[str]:
    """What two accounts are compared on: industry, country, size bucket and content words."""
    out: set[str] = set()
    if fold(account.industry):
        out.add("industry:" + fold(account.industry))
    if (account.country or "").strip():
        out.add("country:" + account.country.strip().upper())  # type: ignore[union-attr]
    bucket = _size_bucket(account.employee_count)
    if bucket:
        out.add("size:" + bucket)
    out.update("word:" + w for w in _content(account_text(account)) if len(w) > 2 and w != "\x00")
    return frozenset(out)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def feedback_nudge(account: AccountSnapshot, examples: Sequence[tuple[AccountSnapshot, bool]]) -> float:
    """In [-MAX_NUDGE, MAX_NUDGE]: positive when the account resembles approved examples more than rejected ones."""
    approved = [a for a, ok in examples if ok][:MAX_EXAMPLES_PER_SIDE]
    rejected = [a for a, ok in examples if not ok][:MAX_EXAMPLES_PER_SIDE]
    mine = features(account)
    closest_approved = max((jaccard(mine, features(a)) for a in approved), default=0.0)
    closest_rejected = max((jaccard(mine, features(a)) for a in rejected), default=0.0)
    return max(-MAX_NUDGE, min(MAX_NUDGE, MAX_NUDGE * (closest_approved - closest_rejected)))


# --- the scorer -----------------------------------------------------------------------------------


def _round(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def score(
    goal: Goal,
    persona: Persona,
    product: Product,
    account: AccountSnapshot,
    contacts: Sequence[ContactSnapshot],
    *,
    language: str = "en",
    today: date,
    examples: Sequence[tuple[AccountSnapshot, bool]] = (),
) -> RubricScore:
    """Apply ``goal``'s rubric to ``account``; deterministic for the same inputs."""
    inputs = _Inputs(goal, persona, product, account, tuple(contacts), today)
    reasons: list[Justification] = []
    weighted = total_weight = 0.0
    excluded = False
    for criterion in goal.rubric:
        evaluator = EVALUATORS.get(criterion.measure)
        if evaluator is None:
            raise ValueError(f"criterion {criterion.key!r}: unknown measure {criterion.measure!r}")
        ev = evaluator(inputs)
        reasons.append(_justify(criterion, ev, language))
        if ev.value is None and ev.missing == "persona":
            continue  # the persona does not care about this criterion
        weighted += criterion.weight * (UNKNOWN_VALUE if ev.value is None else ev.value)
        total_weight += criterion.weight
        excluded = excluded or (criterion.measure == "exclusions" and ev.value == 0.0)
    if total_weight <= 0:
        return RubricScore(0.0, band(0.0), tuple(reasons))
    raw = 10.0 * weighted / total_weight - (EXCLUSION_PENALTY if excluded else 0.0)
    if examples:
        nudge = _round(feedback_nudge(account, examples))
        if nudge:
            msgid, kind = (FEEDBACK_APPROVED, "fit") if nudge > 0 else (FEEDBACK_REJECTED, "risk")
            text = translate(language, msgid, value=f"{nudge:+.1f}")
            reasons.append(Justification(kind, FEEDBACK, text))
            raw += nudge
    final = _round(min(10.0, max(0.0, raw)))
    return RubricScore(final, band(final), tuple(reasons))

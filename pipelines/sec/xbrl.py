"""Parse one SEC XBRL filing document into numeric facts: pure functions, no I/O.

Two shapes of document are accepted, told apart by their content:

* an XBRL *instance* (``*_htm.xml``, root ``<xbrl>``), whose facts are the root's children;
* an *inline XBRL* primary document (``*.htm``, XHTML with ``ix:header``), whose numeric facts
  are ``ix:nonFraction`` elements with their displayed text, ``format``, ``scale`` and ``sign``.

Inline documents are parsed as XML first (fast, exact); a document that is not well-formed
XHTML falls back to libxml2's HTML parser, which lower-cases element and attribute names but
keeps attribute values (concept, dimension and context names) as written. A body that is
cut short must fail, never yield the facts before the cut: XML parsing guarantees that, and the
HTML fallback requires the closing ``</ix:header>`` and ``</html>`` tags.

The caller (the SEC loading step) adds ticker, CIK, accession, form, filing date and source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from lxml import etree

from pipelines.sec.ixt import INSTANCE_NUMBER, IxtFormatError, dei_date, inline_number
from pipelines.sec.xbrl_facts import (
    DECIMAL_CONTEXT,
    Context,
    FactCollector,
    XbrlParseError,
    decimals_attribute,
)

XBRLI = "http://www.xbrl.org/2003/instance"
XBRLDI = "http://xbrl.org/2006/xbrldi"
LINK = "http://www.xbrl.org/2003/linkbase"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
IX_NAMESPACES = ("http://www.xbrl.org/2013/inlineXBRL", "http://www.xbrl.org/2008/inlineXBRL")


_DEI_FIELDS = {
    "DocumentType": "document_type",
    "DocumentFiscalYearFocus": "fiscal_year",
    "DocumentFiscalPeriodFocus": "fiscal_period",
    "DocumentPeriodEndDate": "period_end",
}
# Only namespaces that never hold facts may appear at the top of an instance without a
# contextRef; anything else there is a fact missing its context.
_NON_FACT_NAMESPACES = {XBRLI, LINK, XBRLDI}
_SNIFF_BYTES = 65536


@dataclass(frozen=True)
class XbrlDocument:
    """The numeric facts and document metadata of one XBRL instance or inline XBRL document.

    ``facts`` has the columns of :data:`~pipelines.sec.xbrl_facts.FACT_SCHEMA`, one row per
    distinct fact (concept, unit, period, dimensions). ``duplicates`` counts repeated facts that
    were dropped because they agreed with the kept one (inline documents repeat facts; a rounded
    copy agrees with a precise one); ``conflicts`` counts repeats whose value disagreed (the
    most precise, or else the first, was kept); ``nil_facts`` counts xsi:nil numeric facts,
    which are skipped. Facts in an ``xbrli:forever`` context have no period to file them under
    and are skipped too (SEC filings do not use them for numbers).
    """

    url: str
    kind: str  # "instance" | "inline"
    parser: str  # "xml" | "html" (the inline fallback for documents that are not XHTML)
    facts: pl.DataFrame
    document_type: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    period_end: date | None
    duplicates: int
    conflicts: int
    nil_facts: int


# ---------------------------------------------------------------------------------------------
# Element and attribute names: Clark notation for XML, lower-cased "prefix:local" for HTML.


@dataclass(frozen=True)
class _Names:
    context: str
    unit: str
    explicit_member: str
    typed_member: str
    start_date: str
    end_date: str
    instant: str
    forever: str
    measure: str
    numerator: str
    denominator: str
    non_fraction: str
    non_numeric: str
    header: str
    exclude: str
    context_ref: str
    unit_ref: str
    nil: str


def _xml_names(ix: str) -> _Names:
    return _Names(
        context=f"{{{XBRLI}}}context",
        unit=f"{{{XBRLI}}}unit",
        explicit_member=f"{{{XBRLDI}}}explicitMember",
        typed_member=f"{{{XBRLDI}}}typedMember",
        start_date=f"{{{XBRLI}}}startDate",
        end_date=f"{{{XBRLI}}}endDate",
        instant=f"{{{XBRLI}}}instant",
        forever=f"{{{XBRLI}}}forever",
        measure=f"{{{XBRLI}}}measure",
        numerator=f"{{{XBRLI}}}unitNumerator",
        denominator=f"{{{XBRLI}}}unitDenominator",
        non_fraction=f"{{{ix}}}nonFraction",
        non_numeric=f"{{{ix}}}nonNumeric",
        header=f"{{{ix}}}header",
        exclude=f"{{{ix}}}exclude",
        context_ref="contextRef",
        unit_ref="unitRef",
        nil=f"{{{XSI}}}nil",
    )


def _html_names(root: etree._Element) -> _Names:
    """Names as libxml2's HTML parser spells them, with the prefixes the document declares."""
    prefixes = {v: k.split(":", 1)[1] for k, v in root.attrib.items() if k.startswith("xmlns:")}
    ix = next((prefixes[ns] for ns in IX_NAMESPACES if ns in prefixes), "ix")
    xbrli = prefixes.get(XBRLI, "xbrli")
    xbrldi = prefixes.get(XBRLDI, "xbrldi")
    xsi = prefixes.get(XSI, "xsi")
    return _Names(
        context=f"{xbrli}:context",
        unit=f"{xbrli}:unit",
        explicit_member=f"{xbrldi}:explicitmember",
        typed_member=f"{xbrldi}:typedmember",
        start_date=f"{xbrli}:startdate",
        end_date=f"{xbrli}:enddate",
        instant=f"{xbrli}:instant",
        forever=f"{xbrli}:forever",
        measure=f"{xbrli}:measure",
        numerator=f"{xbrli}:unitnumerator",
        denominator=f"{xbrli}:unitdenominator",
        non_fraction=f"{ix}:nonfraction",
        non_numeric=f"{ix}:nonnumeric",
        header=f"{ix}:header",
        exclude=f"{ix}:exclude",
        context_ref="contextref",
        unit_ref="unitref",
        nil=f"{xsi}:nil",
    )


# ---------------------------------------------------------------------------------------------
# Public entry point.


def parse_xbrl(body: bytes, *, url: str = "") -> XbrlDocument:
    """Parse an XBRL instance or inline XBRL document into an :class:`XbrlDocument`.

    Which of the two it is comes from the content (root ``xbrl`` vs XHTML with ``ix:header``).
    Raises :class:`XbrlParseError` naming ``url`` and the cause when the body is not XBRL (an
    HTML error page, truncated XML, no contexts) or a fact is unusable (missing or unknown
    contextRef/unitRef, a value that its format cannot read).
    """
    if not body or body.isspace():
        raise XbrlParseError(url, "empty body; expected an XBRL instance or inline XBRL document")
    # huge_tree stays off: it would lift libxml2's limits on entity expansion and depth.
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        if not _looks_inline(body):
            raise XbrlParseError(
                url,
                f"not an XBRL document: not well-formed XML ({exc}); if this is a truncated "
                "download, fetch it again",
            ) from None
        return _parse_inline_html(body, url, exc)

    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == f"{{{XBRLI}}}xbrl":
        return _parse_instance(root, url)
    if tag and etree.QName(tag).localname.lower() == "html":
        declared = set(root.nsmap.values())
        ix = next((ns for ns in IX_NAMESPACES if ns in declared), None)
        ix = ix or next((ns for ns in IX_NAMESPACES if ns.encode() in body), IX_NAMESPACES[0])
        return _parse_inline(root, _xml_names(ix), url, "xml")
    raise XbrlParseError(
        url, f"not an XBRL document (root element {tag or '?'!r}, expected xbrl or html)"
    )


def _looks_inline(body: bytes) -> bool:
    head = body[:_SNIFF_BYTES]
    return any(ns.encode() in head for ns in IX_NAMESPACES)


# ---------------------------------------------------------------------------------------------
# Contexts and units (same elements in instances and inline headers).


def _xbrl_date(text: str | None, *, end: bool) -> date:
    """An XBRL date or dateTime. A bare end date/instant means the end of that day, so a
    midnight dateTime on an end is the day before (XBRL 2.1, 4.7.2)."""
    value = (text or "").strip()
    day = date.fromisoformat(value[:10])
    if end and len(value) > 10 and value[10:].lstrip("T").startswith("00:00:00"):
        day -= timedelta(days=1)
    return day


def _parse_contexts(scopes: list[etree._Element], names: _Names, url: str) -> dict[str, Context]:
    contexts: dict[str, Context] = {}
    for ctx in (c for scope in scopes for c in scope.iter(names.context)):
        cid = ctx.get("id")
        start = end = None
        forever = False
        try:
            for el in ctx.iter(names.start_date, names.end_date, names.instant, names.forever):
                if el.tag == names.start_date:
                    start = _xbrl_date(el.text, end=False)
                elif el.tag == names.forever:
                    forever = True
                else:
                    end = _xbrl_date(el.text, end=True)
        except ValueError as exc:
            raise XbrlParseError(url, f"context {cid!r}: bad period date ({exc})") from None
        if end is None and not forever:
            raise XbrlParseError(url, f"context {cid!r} has no period end or instant")
        dims: dict[str, str] = {}
        for member in ctx.iter(names.explicit_member, names.typed_member):
            axis = (member.get("dimension") or "").strip()
            if member.tag == names.explicit_member:
                value = (member.text or "").strip()
            else:
                value = "".join(member.itertext()).strip()
            if not axis:
                raise XbrlParseError(url, f"context {cid!r}: a member without a dimension")
            dims[axis] = value
        pairs = tuple(sorted(dims.items()))
        key = "|".join(f"{a}={m}" for a, m in pairs)
        contexts[cid] = Context(start, end, pairs, key)
    if not contexts:
        raise XbrlParseError(url, "not an XBRL document (no xbrli:context found)")
    return contexts


def _parse_units(scopes: list[etree._Element], names: _Names) -> dict[str, str]:
    units: dict[str, str] = {}

    def measures(parent: etree._Element) -> list[str]:
        # companyfacts spelling: a measure's local name, without its prefix.
        return [(m.text or "").strip().rsplit(":", 1)[-1] for m in parent.iter(names.measure)]

    for unit in (u for scope in scopes for u in scope.iter(names.unit)):
        numerator = next(unit.iter(names.numerator), None)
        denominator = next(unit.iter(names.denominator), None)
        if numerator is not None and denominator is not None:
            text = "*".join(measures(numerator)) + "/" + "*".join(measures(denominator))
        else:
            text = "*".join(measures(unit))
        units[unit.get("id")] = text
    return units


# ---------------------------------------------------------------------------------------------
# Fact collection, de-duplication and the DataFrame.


class _Dei:
    """The first value seen of each document-information field."""

    def __init__(self, url: str):
        self.url = url
        self.values: dict[str, str] = {}

    def add(self, local: str, text: str, fmt: str | None, where: str) -> None:
        field = _DEI_FIELDS.get(local)
        text = " ".join(text.split())
        if field is None or not text or field in self.values:
            return
        if field == "period_end":
            try:
                self.values[field] = dei_date(text, fmt).isoformat()
            except IxtFormatError as exc:
                raise XbrlParseError(self.url, f"{where}: {exc}") from None
        else:
            self.values[field] = text

    def result(self) -> dict:
        fiscal_year = self.values.get("fiscal_year")
        if fiscal_year is not None:
            try:
                fiscal_year = int(fiscal_year)
            except ValueError:
                raise XbrlParseError(
                    self.url, f"dei:DocumentFiscalYearFocus {fiscal_year!r} is not a year"
                ) from None
        period_end = self.values.get("period_end")
        return {
            "document_type": self.values.get("document_type"),
            "fiscal_year": fiscal_year,
            "fiscal_period": self.values.get("fiscal_period"),
            "period_end": date.fromisoformat(period_end) if period_end else None,
        }


# ---------------------------------------------------------------------------------------------
# Instance documents.


def _parse_instance(root: etree._Element, url: str) -> XbrlDocument:
    names = _xml_names(IX_NAMESPACES[0])
    facts = FactCollector(url, _parse_contexts([root], names, url), _parse_units([root], names))
    dei = _Dei(url)
    for el in root:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        ns, _, local = tag[1:].partition("}")
        context_ref = el.get("contextRef")
        if context_ref is None:
            if ns in _NON_FACT_NAMESPACES:
                continue
            raise XbrlParseError(url, f"fact {_qname(el, ns, local)}: no contextRef")
        taxonomy = el.prefix or _prefix_from_namespace(ns, url)
        where = f"fact {taxonomy}:{local} (id={el.get('id')})"
        unit_ref = el.get("unitRef")
        if el.get(names.nil) == "true":
            facts.context(context_ref, where)
            facts.nil_facts += unit_ref is not None
            continue
        if unit_ref is None:  # a non-numeric fact
            facts.context(context_ref, where)
            if taxonomy == "dei":
                dei.add(local, el.text or "", None, where)
            continue
        text = (el.text or "").strip()
        if not INSTANCE_NUMBER.fullmatch(text):
            raise XbrlParseError(url, f"{where}: value {text!r} is not a number")
        value = Decimal(text)
        decimals = decimals_attribute(el.get("decimals"), where, url)
        facts.add(taxonomy, local, context_ref, unit_ref, value, decimals, where)
    return _document(url, "instance", "xml", facts, dei)


def _qname(el: etree._Element, ns: str, local: str) -> str:
    return f"{el.prefix}:{local}" if el.prefix else f"{{{ns}}}{local}"


def _prefix_from_namespace(ns: str, url: str) -> str:
    # e.g. http://fasb.org/us-gaap/2023 -> us-gaap, used only when a document declares the
    # concept namespace as its default namespace.
    parts = [p for p in ns.rstrip("/").split("/") if p]
    if len(parts) >= 2 and parts[-1][:4].isdigit():
        return parts[-2]
    raise XbrlParseError(url, f"no prefix for concept namespace {ns!r}")


def _document(url: str, kind: str, parser: str, facts: FactCollector, dei: _Dei) -> XbrlDocument:
    return XbrlDocument(
        url=url,
        kind=kind,
        parser=parser,
        facts=facts.frame(),
        duplicates=facts.duplicates,
        conflicts=facts.conflicts,
        nil_facts=facts.nil_facts,
        **dei.result(),
    )


# ---------------------------------------------------------------------------------------------
# Inline XBRL documents.


def _parse_inline_html(body: bytes, url: str, xml_error: Exception) -> XbrlDocument:
    tail = body[-4096:].rstrip().lower()
    if not tail.endswith(b"</html>") or b"</ix:header>" not in body.lower():
        raise XbrlParseError(
            url,
            "inline XBRL document is cut short (no closing </ix:header> or </html>; "
            f"XML parser: {xml_error}); fetch it again",
        )
    root = etree.fromstring(body, etree.HTMLParser(no_network=True))
    if root is None:
        raise XbrlParseError(url, "not an XBRL document (the HTML parser found no elements)")
    return _parse_inline(root, _html_names(root), url, "html")


def _parse_inline(root: etree._Element, names: _Names, url: str, parser: str) -> XbrlDocument:
    # One walk of the (large) tree for the headers and facts; contexts and units are read
    # from the headers only.
    headers: list[etree._Element] = []
    elements: list[etree._Element] = []
    header_tag = names.header
    for el in root.iter(header_tag, names.non_fraction, names.non_numeric):
        (headers if el.tag == header_tag else elements).append(el)
    if not headers:
        raise XbrlParseError(url, "not an XBRL document (HTML without an ix:header)")
    facts = FactCollector(url, _parse_contexts(headers, names, url), _parse_units(headers, names))
    dei = _Dei(url)
    non_fraction = names.non_fraction
    for el in elements:
        name = (el.get("name") or "").strip()
        taxonomy, sep, local = name.partition(":")
        where = f"fact {name or '?'} (id={el.get('id')})"
        if not sep or not local:
            raise XbrlParseError(url, f"{where}: name is not a QName")
        if el.tag != non_fraction:
            if taxonomy == "dei" and local in _DEI_FIELDS:
                facts.context(el.get(names.context_ref), where)
                dei.add(local, _text(el, names.exclude), el.get("format"), where)
            continue
        if el.get(names.nil) == "true":
            facts.context(el.get(names.context_ref), where)
            facts.nil_facts += 1
            continue
        text = el.text if len(el) == 0 else "".join(el.itertext())
        try:
            value = inline_number(text or "", el.get("format"))
        except IxtFormatError as exc:
            raise XbrlParseError(url, f"{where}: {exc}") from None
        scale = el.get("scale")
        if scale:
            try:
                value = value.scaleb(int(scale), context=DECIMAL_CONTEXT)
            except ValueError:
                raise XbrlParseError(url, f"{where}: bad scale {scale!r}") from None
        if el.get("sign") == "-":
            value = -value
        decimals = decimals_attribute(el.get("decimals"), where, url)
        facts.add(
            taxonomy,
            local,
            el.get(names.context_ref),
            el.get(names.unit_ref),
            value,
            decimals,
            where,
        )
    return _document(url, "inline", parser, facts, dei)


def _text(el: etree._Element, exclude: str) -> str:
    """An element's text without its ix:exclude parts."""
    if len(el) == 0:
        return el.text or ""
    parts = [el.text or ""]
    for child in el:
        if child.tag != exclude:
            parts.append(_text(child, exclude))
        parts.append(child.tail or "")
    return "".join(parts)

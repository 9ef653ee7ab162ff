"""SCIM's path and filter language (RFC 7644 §3.4.2.2, §3.5.2): parsed into a small tree
that selectors turn into a database query and PATCH evaluates against a value list.

    filter    := or
    or        := and ("or" and)*
    and       := term ("and" term)*
    term      := "not" "(" filter ")" | "(" filter ")" | attrPath "pr"
               | attrPath compareOp compValue | attrPath "[" filter "]"
    patchPath := attrPath | attrPath "[" filter "]" ["." subAttr]

Keywords, operators and attribute names are case-insensitive; a ``compValue`` is a JSON
string, number, ``true``, ``false`` or ``null``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Union

from .errors import ScimError
from .schemas import ENTERPRISE_USER, GROUP, USER

KNOWN_SCHEMAS = {urn.lower(): urn for urn in (USER, ENTERPRISE_USER, GROUP)}
COMPARE_OPS = {"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"}
MAX_FILTER_LENGTH = 2000
# The parser, the database conditions and value-filter matching all recurse along the
# tree, so its height is bounded with the length: groups (parentheses, ``not ( … )``,
# value filters) nest at most MAX_FILTER_DEPTH deep, and at most MAX_FILTER_TERMS
# comparisons are joined by ``and``/``or``. Identity providers send one or two terms.
MAX_FILTER_DEPTH = 20
MAX_FILTER_TERMS = 50

_NAME = r"[A-Za-z$][\w$-]*"
_ATTR = re.compile(rf"(?P<attr>{_NAME})(?:\.(?P<sub>{_NAME}))?")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<punct>[()\[\]])
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])
      | (?P<word>urn:[^\s()\[\]"]+|[A-Za-z$][\w$-]*(?:\.[A-Za-z$][\w$-]*)?)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class AttrPath:
    """``schema`` is a known schema URN or None (the resource's core schema); ``attr`` is
    None when the path names a whole extension."""

    schema: str | None
    attr: str | None
    sub: str | None = None

    @property
    def key(self) -> str:
        """A lower-case key for lookups: ``name.givenname``, ``<urn>:employeenumber``."""
        name = ".".join(part for part in (self.attr, self.sub) if part).lower()
        return f"{self.schema.lower()}:{name}" if self.schema else name


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str
    value: Any


@dataclass(frozen=True)
class Present:
    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class ValuePath:
    """``emails[type eq "work"]``: the filter applies to each value of ``path``."""

    path: AttrPath
    node: Node


Node = Union[Compare, Present, And, Or, Not, ValuePath]


@dataclass(frozen=True)
class PatchPath:
    path: AttrPath
    value_filter: Node | None = None
    sub: str | None = None  # after the filter: emails[type eq "work"].value


def parse_attr_path(text: str, *, scim_type: str = "invalidPath") -> AttrPath:
    """``userName``, ``name.givenName``, ``urn:…:User:userName`` or an extension's URN."""
    text = text.strip()
    lowered = text.lower()
    if lowered in KNOWN_SCHEMAS:
        return AttrPath(KNOWN_SCHEMAS[lowered], None)
    schema = None
    if lowered.startswith("urn:"):
        schema = next((urn for key, urn in KNOWN_SCHEMAS.items() if lowered.startswith(key + ":")), None)
        if schema is None:
            raise ScimError(f"Unknown schema in attribute path {text!r}.", scim_type=scim_type)
        text = text[len(schema) + 1 :]
    match = _ATTR.fullmatch(text)
    if match is None:
        raise ScimError(f"{text!r} is not an attribute path.", scim_type=scim_type)
    return AttrPath(schema, match["attr"], match["sub"])


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise ScimError(f"Cannot read the filter at {text[position:position + 20]!r}.", scim_type="invalidFilter")
        kind = match.lastgroup
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_FILTER_LENGTH:
            raise ScimError("The filter is too long.", scim_type="invalidFilter")
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0
        self.terms = 0

    def fail(self, detail: str):
        raise ScimError(detail, scim_type="invalidFilter")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            self.fail("The filter ends too early.")
        self.position += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in words

    def expect(self, punct: str) -> None:
        kind, value = self.take()
        if (kind, value) != ("punct", punct):
            self.fail(f"Expected {punct!r} in the filter, found {value!r}.")

    def group(self, close: str, *, inside_value_path: bool) -> Node:
        """A filter up to ``close``, one level deeper than the caller's."""
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            self.fail(f"The filter nests deeper than {MAX_FILTER_DEPTH} levels.")
        node = self.or_(inside_value_path=inside_value_path)
        self.expect(close)
        self.depth -= 1
        return node

    def parse(self) -> Node:
        if not self.tokens:
            self.fail("The filter is empty.")
        node = self.or_(inside_value_path=False)
        if self.peek() is not None:
            self.fail(f"Unexpected {self.peek()[1]!r} in the filter.")
        return node

    def or_(self, *, inside_value_path: bool) -> Node:
        node = self.and_(inside_value_path=inside_value_path)
        while self.keyword("or"):
            self.take()
            node = Or(node, self.and_(inside_value_path=inside_value_path))
        return node

    def and_(self, *, inside_value_path: bool) -> Node:
        node = self.term(inside_value_path=inside_value_path)
        while self.keyword("and"):
            self.take()
            node = And(node, self.term(inside_value_path=inside_value_path))
        return node

    def term(self, *, inside_value_path: bool) -> Node:
        kind, value = self.take()
        if kind == "word" and value.lower() == "not":
            self.expect("(")
            return Not(self.group(")", inside_value_path=inside_value_path))
        if (kind, value) == ("punct", "("):
            return self.group(")", inside_value_path=inside_value_path)
        if kind != "word" or value.lower() in COMPARE_OPS | {"and", "or", "pr"}:
            self.fail(f"Expected an attribute in the filter, found {value!r}.")
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            self.fail(f"The filter has more than {MAX_FILTER_TERMS} terms.")
        path = parse_attr_path(value, scim_type="invalidFilter")
        if path.attr is None:
            self.fail(f"{value!r} is a schema, not an attribute.")
        following = self.peek()
        if following == ("punct", "["):
            if inside_value_path or path.sub:
                self.fail("A value filter cannot be nested or follow a sub-attribute.")
            self.take()
            return ValuePath(path, self.group("]", inside_value_path=True))
        op_kind, op = self.take()
        op = op.lower()
        if op_kind != "word" or op not in COMPARE_OPS | {"pr"}:
            self.fail(f"Expected an operator after {value!r}, found {op!r}.")
        if op == "pr":
            return Present(path)
        return Compare(path, op, self.literal())

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "string":
            try:
                return json.loads(value)
            except ValueError:
                self.fail(f"{value} is not a valid string.")
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "word" and value.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value.lower()]
        self.fail(f"Expected a value, found {value!r}.")


def parse_filter(text: str) -> Node:
    return _Parser(text).parse()


def parse_patch_path(text: str) -> PatchPath:
    """A PATCH operation's ``path``: an attribute, or a value filter on a multi-valued one."""
    if not isinstance(text, str) or not text.strip():
        raise ScimError("path must be a non-empty string.", scim_type="invalidPath")
    text = text.strip()
    bracket = text.find("[")
    if bracket < 0:
        return PatchPath(parse_attr_path(text))
    close = _closing_bracket(text, bracket)
    path = parse_attr_path(text[:bracket])
    if path.attr is None or path.sub:
        raise ScimError(f"{text!r}: a value filter follows an attribute.", scim_type="invalidPath")
    try:
        parser = _Parser(text[bracket + 1 : close])
        node = parser.or_(inside_value_path=True)
        if parser.peek() is not None:
            parser.fail(f"Unexpected {parser.peek()[1]!r} in the value filter.")
    except ScimError as error:
        raise ScimError(f"{text!r}: {error.detail}", scim_type="invalidPath") from None
    rest = text[close + 1 :]
    sub = None
    if rest:
        match = re.fullmatch(rf"\.({_NAME})", rest)
        if match is None:
            raise ScimError(f"{text!r} is not a valid path.", scim_type="invalidPath")
        sub = match[1]
    return PatchPath(path, node, sub)


def _closing_bracket(text: str, start: int) -> int:
    in_string = escaped = False
    for index in range(start + 1, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "]":
            return index
    raise ScimError(f"{text!r}: the value filter is not closed.", scim_type="invalidPath")


# --- evaluating a value filter against one value of a multi-valued attribute ----------------


def get_ci(data: dict, name: str) -> Any:
    """A member of a SCIM object by name in any case (attribute names are case-insensitive)."""
    lowered = name.lower()
    return next((value for key, value in data.items() if key.lower() == lowered), None)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.casefold(), expected.casefold()
    elif isinstance(expected, bool) or isinstance(actual, bool):
        if op not in ("eq", "ne"):
            return False
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if actual is None or expected is None:
        return False
    if op in ("co", "sw", "ew"):
        if not (isinstance(actual, str) and isinstance(expected, str)):
            return False
        return {"co": expected in actual, "sw": actual.startswith(expected), "ew": actual.endswith(expected)}[op]
    try:
        return {"gt": actual > expected, "ge": actual >= expected, "lt": actual < expected, "le": actual <= expected}[op]
    except TypeError:
        return False


def matches(item: Any, node: Node) -> bool:
    """Whether one value (``{"type": "work", "value": …}``) satisfies a value filter."""
    if isinstance(node, And):
        return matches(item, node.left) and matches(item, node.right)
    if isinstance(node, Or):
        return matches(item, node.left) or matches(item, node.right)
    if isinstance(node, Not):
        return not matches(item, node.node)
    if not isinstance(item, dict) or isinstance(node, ValuePath) or node.path.sub:
        return False
    actual = get_ci(item, node.path.attr)
    if isinstance(node, Present):
        return actual not in (None, "", [], {})
    return _compare(actual, node.op, node.value)


def equalities(node: Node) -> dict[str, Any] | None:
    """The values a filter made only of ``eq`` joined by ``and`` pins down (``type eq "work"``
    → ``{"type": "work"}``): what a new value must carry to be the filter's target."""
    if isinstance(node, And):
        left, right = equalities(node.left), equalities(node.right)
        return None if left is None or right is None else {**left, **right}
    if isinstance(node, Compare) and node.op == "eq" and node.path.sub is None and node.path.schema is None:
        return {node.path.attr: node.value}
    return None

"""The expression subset of the in-memory DynamoDB (`devtools.memory_dynamodb`), parsed and
evaluated on plain typed-value dicts (`{"S": "..."}`, `{"N": "3"}`, ...).

Supported, because the store uses it (`newsroom.store.dynamo` and `newsroom.store.batches`):

- conditions and filters: comparisons `=`, `<`, `<=`, `>`, `>=`, `BETWEEN`, `AND`, `OR`, `NOT`,
  parentheses, `attribute_exists(...)` and `attribute_not_exists(...)` on top-level attributes;
- key conditions: `PK = :v`, optionally `AND` one sort key condition (a comparison, `BETWEEN` or
  `begins_with`);
- updates: `SET name = :v` and `ADD name :n` (numbers);
- projections: a list of top-level attribute names.

Anything else (document paths, `<>`, `IN`, `size`, `contains`, `REMOVE`, sets, ...) raises
`ExpressionError`, which the client turns into a ValidationException: new code that needs more
fails loudly here instead of being forgiven, and whoever adds it extends this module.

Rules DynamoDB enforces on every request and so do we (Amazon DynamoDB Developer Guide,
"Using expressions in DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.html):
every `#name` and `:value` used must be defined, every one defined must be used, neither map
may be empty, and a reserved word may not name an attribute directly ("Reserved words in
DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

Value = dict[str, Any]  # one typed attribute value: {"S": "x"}, {"N": "1"}, {"B": b"..."}, ...
Item = dict[str, Value]
Condition = Callable[[Item], bool]
Operand = Callable[[Item], Value | None]

RESERVED_WORDS_FILE = Path(__file__).with_name("dynamodb_reserved_words.txt")
COMPARATORS = ("=", "<", "<=", ">", ">=")
_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|<>|[=<>(),])|(?P<other>\S))"
)
# Numbers: up to 38 significant digits, magnitudes from 1E-130 to 9.99...E+125 ("Supported data
# types and naming rules in Amazon DynamoDB", Number:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
_NUMBER_DIGITS = 38
_NUMBER_MAX_EXPONENT = 125
_NUMBER_MIN_EXPONENT = -130
_ARITHMETIC = Context(prec=_NUMBER_DIGITS + 2)


class ExpressionError(ValueError):
    """A request DynamoDB would refuse with a ValidationException (or one outside our subset)."""


@cache
def reserved_words() -> frozenset[str]:
    return frozenset(RESERVED_WORDS_FILE.read_text(encoding="utf-8").split())


def canonical_number(text: Any) -> str:
    """The number as DynamoDB stores and returns it ("1.50" -> "1.5", "1E+2" -> "100"), or
    ExpressionError for what it refuses."""
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ExpressionError(f"A value provided cannot be converted into a number: {text!r}") from exc
    if not number.is_finite():
        raise ExpressionError(f"A value provided cannot be converted into a number: {text!r}")
    if number.is_zero():
        return "0"
    number = number.normalize()
    if len(number.as_tuple().digits) > _NUMBER_DIGITS:
        raise ExpressionError("Attempting to store more than 38 significant digits in a Number")
    if number.adjusted() > _NUMBER_MAX_EXPONENT:
        raise ExpressionError(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if number.adjusted() < _NUMBER_MIN_EXPONENT:
        raise ExpressionError(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    return format(number, "f")


class Expressions:
    """The `ExpressionAttributeNames` and `ExpressionAttributeValues` one request's expressions
    share, recording which were used so that `finish` can refuse the unused ones."""

    def __init__(self, names: Mapping[str, str] | None, values: Mapping[str, Value] | None) -> None:
        if names is not None and not names:
            raise ExpressionError("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise ExpressionError("ExpressionAttributeValues must not be empty")
        self.names: Mapping[str, str] = names or {}
        self.values: Mapping[str, Value] = values or {}
        self._used_names: set[str] = set()
        self._used_values: set[str] = set()

    def name(self, kind: str, token: str) -> str:
        if kind == "name":
            if token not in self.names:
                raise ExpressionError(
                    f"An expression attribute name used in the document path is not defined; attribute name: {token}"
                )
            self._used_names.add(token)
            return self.names[token]
        if kind != "word":
            raise ExpressionError(f"Invalid expression: an attribute name was expected, not {token!r}")
        if token.upper() in reserved_words():
            raise ExpressionError(f"Attribute name is a reserved keyword; reserved keyword: {token}")
        return token

    def value(self, token: str) -> Value:
        if token not in self.values:
            raise ExpressionError(
                f"An expression attribute value used in expression is not defined; attribute value: {token}"
            )
        self._used_values.add(token)
        return self.values[token]

    def finish(self) -> None:
        for field, unused in (
            ("ExpressionAttributeNames", set(self.names) - self._used_names),
            ("ExpressionAttributeValues", set(self.values) - self._used_values),
        ):
            if unused:
                keys = ", ".join(sorted(unused))
                raise ExpressionError(f"Value provided in {field} unused in expressions: keys: {{{keys}}}")


def _tokens(text: str, what: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        token = match.group(kind)
        if kind == "other":
            raise ExpressionError(f"{what}: {token!r} is outside the memory fake's expression subset: {text!r}")
        found.append((kind, token))
    if not found:
        raise ExpressionError(f"Invalid {what}: The expression can not be empty;")
    return found


class _Parser:
    def __init__(self, text: str, names: Expressions, what: str) -> None:
        self.text = text
        self.what = what
        self.names = names
        self.tokens = _tokens(text, what)
        self.pos = 0

    def fail(self, why: str) -> ExpressionError:
        return ExpressionError(f"Invalid {self.what}: {why}; expression: {self.text!r}")

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        at = self.pos + ahead
        return self.tokens[at] if at < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise self.fail("the expression ends too early")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        kind, token = self.peek()
        if kind == "word" and token.upper() == word:
            self.pos += 1
            return True
        return False

    def expect(self, token: str) -> None:
        if self.take()[1] != token:
            raise self.fail(f"{token!r} expected")

    def done(self) -> None:
        if self.peek()[0] != "end":
            raise self.fail(f"unexpected {self.peek()[1]!r}")

    def attribute(self) -> str:
        kind, token = self.take()
        return self.names.name(kind, token)

    def constant(self) -> Value:
        kind, token = self.take()
        if kind != "value":
            raise self.fail(f"a :value was expected, not {token!r}")
        return self.names.value(token)

    def operand(self) -> Operand:
        kind, token = self.peek()
        if kind == "value":
            constant = self.constant()
            return lambda _item: constant
        if self.peek(1)[1] == "(":
            raise self.fail(f"function {token!r} is outside the memory fake's subset")
        name = self.attribute()
        return lambda item: item.get(name)

    # -- conditions and filters ---------------------------------------------------------------

    def disjunction(self) -> Condition:
        left = self.conjunction()
        while self.keyword("OR"):
            right = self.conjunction()
            left = (lambda a, b: lambda item: a(item) or b(item))(left, right)
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.keyword("AND"):
            right = self.negation()
            left = (lambda a, b: lambda item: a(item) and b(item))(left, right)
        return left

    def negation(self) -> Condition:
        if self.keyword("NOT"):
            inner = self.negation()
            return lambda item: not inner(item)
        return self.primary()

    def primary(self) -> Condition:
        kind, token = self.peek()
        if (kind, token) == ("op", "("):
            self.take()
            inner = self.disjunction()
            self.expect(")")
            return inner
        if kind == "word" and self.peek(1)[1] == "(":
            return self.function()
        left = self.operand()
        if self.keyword("BETWEEN"):
            low = self.operand()
            self.expect_and()
            high = self.operand()
            return lambda item: compare(">=", left(item), low(item)) and compare("<=", left(item), high(item))
        op = self.take()[1]
        if op not in COMPARATORS:
            raise self.fail(f"operator {op!r} is outside the memory fake's subset")
        right = self.operand()
        return lambda item: compare(op, left(item), right(item))

    def expect_and(self) -> None:
        if not self.keyword("AND"):
            raise self.fail("BETWEEN needs AND")

    def function(self) -> Condition:
        name = self.take()[1]
        self.expect("(")
        attribute = self.attribute()
        self.expect(")")
        if name == "attribute_exists":
            return lambda item: attribute in item
        if name == "attribute_not_exists":
            return lambda item: attribute not in item
        raise self.fail(f"function {name!r} is outside the memory fake's subset")


def _scalar(value: Value) -> tuple[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "N":
        return kind, Decimal(inner)
    if kind == "B":
        return kind, bytes(inner)
    return kind, inner


def compare(op: str, left: Value | None, right: Value | None) -> bool:
    """A comparison as DynamoDB evaluates it: false when either side is missing or the types
    differ; strings compare by their UTF-8 bytes (code point order is the same order), numbers
    by value, binaries bytewise."""
    if left is None or right is None:
        return False
    left_kind, a = _scalar(left)
    right_kind, b = _scalar(right)
    if left_kind != right_kind:
        return False
    if op == "=":
        return bool(a == b)
    if left_kind not in ("S", "N", "B"):
        raise ExpressionError(
            f"Incorrect operand type for operator or function; operator: {op}, operand type: {left_kind}"
        )
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def parse_condition(text: str, names: Expressions, what: str = "ConditionExpression") -> Condition:
    parser = _Parser(text, names, what)
    condition = parser.disjunction()
    parser.done()
    return condition


# -- key conditions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyCondition:
    partition: Value
    sort: Callable[[Value], bool] | None  # on the sort key's value; None: the whole partition
    sort_values: tuple[Value, ...] = ()  # the values the sort key is compared with


def parse_key_condition(text: str, names: Expressions, hash_key: str, range_key: str | None) -> KeyCondition:
    parser = _Parser(text, names, "KeyConditionExpression")
    parts = [_key_part(parser)]
    if parser.keyword("AND"):
        parts.append(_key_part(parser))
    parser.done()
    partition: Value | None = None
    sort: Callable[[Value], bool] | None = None
    sort_values: tuple[Value, ...] = ()
    for attribute, test, value in parts:
        if attribute == hash_key and test == "=" and partition is None:
            partition = value
        elif attribute == range_key and sort is None:
            sort = _sort_test(test, value)
            sort_values = tuple(value) if test == "between" else (value,)
        else:
            raise ExpressionError(f"Query key condition not supported: {text!r}")
    if partition is None:
        raise ExpressionError(f"Query condition missed key schema element: {hash_key}")
    return KeyCondition(partition, sort, sort_values)


def _key_part(parser: _Parser) -> tuple[str, str, Any]:
    if parser.keyword("begins_with"):
        parser.expect("(")
        attribute = parser.attribute()
        parser.expect(",")
        prefix = parser.constant()
        parser.expect(")")
        return attribute, "begins_with", prefix
    attribute = parser.attribute()
    if parser.keyword("BETWEEN"):
        low = parser.constant()
        parser.expect_and()
        high = parser.constant()
        if compare(">", low, high):
            raise ExpressionError(
                "Invalid KeyConditionExpression: "
                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound"
            )
        return attribute, "between", (low, high)
    op = parser.take()[1]
    if op not in COMPARATORS:
        raise parser.fail(f"operator {op!r} is not allowed in a key condition")
    return attribute, op, parser.constant()


def _sort_test(test: str, value: Any) -> Callable[[Value], bool]:
    if test == "between":
        low, high = value
        return lambda key: compare(">=", key, low) and compare("<=", key, high)
    if test == "begins_with":
        kind, prefix = _scalar(value)
        if kind not in ("S", "B"):
            raise ExpressionError("Invalid KeyConditionExpression: Incorrect operand type for operator or function")
        return lambda key: _scalar(key)[0] == kind and _scalar(key)[1].startswith(prefix)
    return lambda key: compare(test, key, value)


# -- updates and projections ------------------------------------------------------------------


def parse_update(text: str, names: Expressions, key_names: frozenset[str]) -> Callable[[Item], Item]:
    """`SET a = :v, ...` and `ADD n :v, ...` clauses; returns item -> updated copy."""
    parser = _Parser(text, names, "UpdateExpression")
    actions: list[tuple[str, str, Value]] = []
    clauses: set[str] = set()
    while parser.peek()[0] != "end":
        clause = parser.take()[1].upper()
        if clause not in ("SET", "ADD"):
            raise parser.fail(f"clause {clause!r} is outside the memory fake's subset")
        if clause in clauses:
            raise parser.fail(f'The "{clause}" section can only be used once in an update expression')
        clauses.add(clause)
        while True:
            attribute = parser.attribute()
            if clause == "SET":
                parser.expect("=")
            actions.append((clause, attribute, parser.constant()))
            if parser.peek()[1] != ",":
                break
            parser.take()
    touched = [attribute for _, attribute, _ in actions]
    if len(set(touched)) < len(touched):
        raise ExpressionError(f"Invalid UpdateExpression: Two document paths overlap with each other: {touched}")
    for attribute in touched:
        if attribute in key_names:
            raise ExpressionError(f"Cannot update attribute {attribute}. This attribute is part of the key")

    def apply(item: Item) -> Item:
        updated = dict(item)
        for clause, attribute, value in actions:
            if clause == "SET":
                updated[attribute] = value
                continue
            current = updated.get(attribute)
            if "N" not in value or (current is not None and "N" not in current):
                raise ExpressionError("An operand in the update expression has an incorrect data type")
            total = _ARITHMETIC.add(Decimal(current["N"]) if current else Decimal(0), Decimal(value["N"]))
            updated[attribute] = {"N": canonical_number(total)}
        return updated

    return apply


def parse_projection(text: str, names: Expressions) -> tuple[str, ...]:
    parser = _Parser(text, names, "ProjectionExpression")
    attributes = [parser.attribute()]
    while parser.peek()[1] == ",":
        parser.take()
        attributes.append(parser.attribute())
    parser.done()
    if len(set(attributes)) < len(attributes):
        raise ExpressionError(f"Invalid ProjectionExpression: Two document paths overlap with each other: {attributes}")
    return tuple(attributes)

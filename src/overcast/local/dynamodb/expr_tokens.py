"""Tokens of DynamoDB's expression language, and the cursor the parsers walk them with.

DynamoDB's rules mirrored (Developer Guide, "Expression attribute names" and
"Expression attribute values"):

- An expression attribute name is ``#`` then one or more alphanumeric characters
  (or underscores); an expression attribute value is ``:`` then the same.
- A bare attribute name needs a placeholder unless it satisfies "the requirement of the
  first character being a-z or A-Z and the second character (if present) being a-z,
  A-Z, or 0-9" (Guide, "Projection expressions"); later characters may also be ``_``.
- Keywords (``AND``, ``OR``, ``NOT``, ``BETWEEN``, ``IN``, ``SET``, ``REMOVE``, ``ADD``,
  ``DELETE``) are case-insensitive; function names are case-sensitive.
- A syntax error names the offending token and the text around it:
  ``Syntax error; token: "<token>", near: "<text>"`` (``<EOF>`` at the end).

Every message is prefixed ``Invalid <Kind>: `` as DynamoDB prefixes its
ValidationException for that parameter (``Invalid UpdateExpression: ...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from overcast.local.dynamodb.expr_reserved import RESERVED_WORDS

TokenKind = Literal["name", "attr_name", "attr_value", "number", "op", "eof"]

_TOKEN = re.compile(
    r"\s*(?:(?P<attr_name>#[A-Za-z0-9_]+)|(?P<attr_value>:[A-Za-z0-9_]+)"
    r"|(?P<name>[A-Za-z](?:[A-Za-z0-9][A-Za-z0-9_]*)?)|(?P<number>[0-9]+)"
    r"|(?P<op><>|<=|>=|[=<>()\[\],.+-]))"
)
_SPACE = re.compile(r"\s*")


class ExpressionError(ValueError):
    """An invalid expression or operand; str(error) is DynamoDB's ValidationException message."""


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text and where it starts in the expression."""

    kind: TokenKind
    text: str
    start: int

    def is_op(self, text: str) -> bool:
        return self.kind == "op" and self.text == text

    def is_keyword(self, word: str) -> bool:
        return self.kind == "name" and self.text.upper() == word


def tokenize(text: str, label: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token."""
    tokens: list[Token] = []
    position = 0
    while True:
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]
        if position == len(text):
            return [*tokens, Token("eof", "<EOF>", position)]
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            bad, near = text[position], text[max(0, position - 1) : position + 2]
            raise ExpressionError(f'Invalid {label}: Invalid token; token: "{bad}", near: "{near}"')
        kind: Any = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()


@dataclass
class Cursor:
    """Walks the tokens of one expression, resolving placeholders as it goes.

    ``label`` is the request parameter (``ConditionExpression``, ``UpdateExpression``, …)
    named in error messages; ``names_used`` and ``values_used`` collect the placeholders
    met, so that the API can refuse unused ones.
    """

    text: str
    label: str
    names: Mapping[str, str]
    values: Mapping[str, Any]
    tokens: list[Token] = field(init=False)
    index: int = 0
    names_used: set[str] = field(default_factory=set)
    values_used: set[str] = field(default_factory=set)
    attributes_used: set[str] = field(default_factory=set)  # top-level names of paths

    def __post_init__(self) -> None:
        if not self.text.strip():
            # DynamoDB: "Invalid UpdateExpression: The expression can not be empty;"
            self.fail("The expression can not be empty;")
        self.tokens = tokenize(self.text, self.label)

    # --- moving -------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def take_op(self, text: str) -> bool:
        if self.peek().is_op(text):
            self.take()
            return True
        return False

    def take_keyword(self, word: str) -> bool:
        if self.peek().is_keyword(word):
            self.take()
            return True
        return False

    def expect_op(self, text: str) -> None:
        if not self.take_op(text):
            self.syntax_error()

    def expect_end(self) -> None:
        if self.peek().kind != "eof":
            self.syntax_error()

    # --- placeholders -------------------------------------------------------

    def attribute_name(self, token: Token) -> str:
        """The attribute a name token stands for (a placeholder resolved, a bare name checked)."""
        if token.kind == "attr_name":
            if token.text not in self.names:
                self.fail(
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {token.text}"
                )
            self.names_used.add(token.text)
            return self.names[token.text]
        if token.text.upper() in RESERVED_WORDS:
            # DynamoDB refuses reserved words as bare names ("Reserved words in DynamoDB").
            self.fail(f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
        return token.text

    def attribute_value(self, token: Token) -> Any:
        if token.text not in self.values:
            self.fail(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {token.text}"
            )
        self.values_used.add(token.text)
        return self.values[token.text]

    # --- errors -------------------------------------------------------------

    def fail(self, detail: str) -> NoReturn:
        raise ExpressionError(f"Invalid {self.label}: {detail}")

    def syntax_error(self) -> NoReturn:
        raise self.unexpected()

    def unexpected(self) -> ExpressionError:
        """The syntax error of the token at the cursor."""
        token = self.peek()
        before = self.tokens[self.index - 1].start if self.index else token.start
        after = self.peek(1)
        end = after.start + len(after.text) if after.kind != "eof" else len(self.text)
        if token.kind == "eof":
            end = len(self.text)
        near = self.text[before:end]
        return ExpressionError(
            f'Invalid {self.label}: Syntax error; token: "{token.text}", near: "{near}"'
        )

//! Alibaba Image Search `Filter` expressions (spec §2.5): a hand-written tokenizer, a
//! recursive-descent parser and an evaluator over an image's `IntAttr*` / `StrAttr*` values.
//!
//! ```text
//! expr  := and { OR and }        and := unary { AND unary }       unary := "(" expr ")" | cond
//! cond  := field op literal | field [NOT] IN "(" literal { "," literal } ")"
//! op    := "=" | "!=" | ">" | ">=" | "<" | "<="
//! field := int_attr | int_attr2 | int_attr3 | int_attr4 | str_attr | str_attr2 | str_attr3 | str_attr4
//! ```
//!
//! Rules, including the choices the grammar leaves open:
//! - Keywords (`AND`, `OR`, `NOT`, `IN`) are case-insensitive. Field names are compared
//!   case-insensitively after removing every `_`, so `int_attr2`, `intAttr2` and `INT_ATTR2` are the
//!   same field. `int_attr1` is not a field (the first one has no digit).
//! - Tokens may touch wherever that is unambiguous: `int_attr>=1`, `str_attr IN("a")`,
//!   `(int_attr=1)OR(int_attr=2)`. A number must not run into a word (`1AND` is rejected), and a
//!   keyword is one word (`NOTIN` is an unknown word, not `NOT IN`).
//! - `NOT` exists only in `NOT IN`; it is no general negation (`NOT (…)`, `field NOT = 1` are errors).
//! - Int literals are `-?[0-9]+` (leading zeros allowed, no `+`, no space after `-`, no fraction)
//!   within `i32`. A quoted value on an int field is an error.
//! - String literals use `"` or `'`; inside either, `\"`, `\'` and `\\` are the only escapes (any
//!   other `\x` is an error). Any other character, Unicode included, is taken verbatim, and values
//!   compare exactly (byte for byte, case-sensitive). An unquoted value on a string field is an error,
//!   as is an ordering operator (`>`, `>=`, `<`, `<=`).
//! - Whitespace between tokens is ASCII whitespace; any other character outside a string literal
//!   is an error.
//! - `IN` lists are non-empty, have no trailing comma, and every item has the field's type.
//! - At most [`MAX_FILTER_LEN`] characters (Unicode scalar values) and [`MAX_NESTING`] levels of
//!   parentheses; `AND`/`OR` chains of any length are parsed and evaluated without recursion.
//! - Error positions are 0-based character offsets into the filter text.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// The longest accepted filter, in characters.
pub const MAX_FILTER_LEN: usize = 4096;

/// The deepest accepted nesting of parentheses.
pub const MAX_NESTING: usize = 64;

/// Words longer than this are shortened when quoted in an error message.
const MAX_ECHO: usize = 32;

/// Attribute values of one image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attributes<'a> {
    /// `IntAttr`, `IntAttr2`, `IntAttr3`, `IntAttr4` (unset ones are 0).
    pub int_attrs: [i32; 4],
    /// `StrAttr`, `StrAttr2`, `StrAttr3`, `StrAttr4` (unset ones are `""`).
    pub str_attrs: [&'a str; 4],
}

/// Why a filter was rejected; the wire answer is always `InvalidFilterClause`, this is the journal's
/// one-line cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The filter is empty or only whitespace.
    #[error("empty filter expression")]
    Empty,
    /// The filter is longer than [`MAX_FILTER_LEN`] characters.
    #[error("filter is {len} characters long; at most {max} are allowed", max = MAX_FILTER_LEN)]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// Parentheses are nested deeper than [`MAX_NESTING`] levels.
    #[error("at {pos}: parentheses nested deeper than {max} levels", max = MAX_NESTING)]
    TooDeep {
        /// Character offset of the first `(` past the limit.
        pos: usize,
    },
    /// Any other syntax or type error.
    #[error("at {pos}: {message}")]
    Syntax {
        /// Character offset of the offending token.
        pos: usize,
        /// What was found and what was expected there.
        message: String,
    },
}

type Result<T> = std::result::Result<T, FilterError>;

fn syntax(pos: usize, message: impl Into<String>) -> FilterError {
    FilterError::Syntax {
        pos,
        message: message.into(),
    }
}

/// A parsed filter expression, ready to be evaluated against many images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    root: Node,
}

impl Filter {
    /// Parses a `Filter` parameter; see the module documentation for the accepted language.
    ///
    /// # Errors
    ///
    /// [`FilterError::Empty`] for an empty or blank text, [`FilterError::TooLong`] over
    /// [`MAX_FILTER_LEN`] characters, [`FilterError::TooDeep`] past [`MAX_NESTING`] parentheses,
    /// and [`FilterError::Syntax`] for anything else outside the grammar.
    pub fn parse(text: &str) -> std::result::Result<Filter, FilterError> {
        let len = text.chars().count();
        if len > MAX_FILTER_LEN {
            return Err(FilterError::TooLong { len });
        }
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            return Err(FilterError::Empty);
        }
        let root = Parser::new(tokens, len).whole()?;
        Ok(Filter { root })
    }

    /// Whether an image with these attributes satisfies the filter.
    #[must_use]
    pub fn matches(&self, attrs: &Attributes<'_>) -> bool {
        self.root.matches(attrs)
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree and evaluation

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// `OR` of two or more operands.
    Any(Vec<Node>),
    /// `AND` of two or more operands.
    All(Vec<Node>),
    Int(Slot, Test<i32>),
    Str(Slot, Test<String>),
}

impl Node {
    fn matches(&self, attrs: &Attributes<'_>) -> bool {
        match self {
            Node::Any(nodes) => nodes.iter().any(|n| n.matches(attrs)),
            Node::All(nodes) => nodes.iter().all(|n| n.matches(attrs)),
            Node::Int(slot, test) => test.eval(&slot.pick(&attrs.int_attrs)),
            Node::Str(slot, test) => test.eval(slot.pick(&attrs.str_attrs)),
        }
    }
}

/// One of the four attributes of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    First,
    Second,
    Third,
    Fourth,
}

impl Slot {
    fn pick<T: Copy>(self, values: &[T; 4]) -> T {
        let [a, b, c, d] = *values;
        match self {
            Slot::First => a,
            Slot::Second => b,
            Slot::Third => c,
            Slot::Fourth => d,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Slot::First => "",
            Slot::Second => "2",
            Slot::Third => "3",
            Slot::Fourth => "4",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test<T> {
    Cmp(CmpOp, T),
    In { negated: bool, values: Vec<T> },
}

impl<T> Test<T> {
    fn eval<A>(&self, actual: &A) -> bool
    where
        A: Ord + ?Sized,
        T: Borrow<A>,
    {
        match self {
            Test::Cmp(op, value) => op.holds(actual.cmp(value.borrow())),
            Test::In { negated, values } => values.iter().any(|v| v.borrow() == actual) != *negated,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    /// Whether `actual op literal` holds, given `actual.cmp(literal)`.
    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord.is_eq(),
            CmpOp::Ne => ord.is_ne(),
            CmpOp::Gt => ord.is_gt(),
            CmpOp::Ge => ord.is_ge(),
            CmpOp::Lt => ord.is_lt(),
            CmpOp::Le => ord.is_le(),
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Int(Slot),
    Str(Slot),
}

impl Field {
    /// The field a word names: case-insensitive, underscores ignored.
    fn lookup(word: &str) -> Option<Field> {
        let norm: String = word
            .chars()
            .filter(|&c| c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let (kind, digit) = if let Some(rest) = norm.strip_prefix("intattr") {
            (Field::Int as fn(Slot) -> Field, rest)
        } else if let Some(rest) = norm.strip_prefix("strattr") {
            (Field::Str as fn(Slot) -> Field, rest)
        } else {
            return None;
        };
        let slot = match digit {
            "" => Slot::First,
            "2" => Slot::Second,
            "3" => Slot::Third,
            "4" => Slot::Fourth,
            _ => return None,
        };
        Some(kind(slot))
    }

    /// The canonical (`snake_case`) name, for messages.
    fn name(self) -> String {
        match self {
            Field::Int(slot) => format!("int_attr{}", slot.suffix()),
            Field::Str(slot) => format!("str_attr{}", slot.suffix()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    LParen,
    RParen,
    Comma,
    Op(CmpOp),
    /// A field name or keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Word(String),
    /// The raw text of `-?[0-9]+`, range-checked by the parser.
    Int(String),
    /// A quoted string, escapes resolved.
    Str(String),
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: Kind,
    pos: usize,
}

const KEYWORDS: [&str; 4] = ["AND", "OR", "NOT", "IN"];

fn is_keyword(kind: &Kind, keyword: &str) -> bool {
    matches!(kind, Kind::Word(w) if w.eq_ignore_ascii_case(keyword))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// What a token is, for "found …" in messages.
fn describe(kind: &Kind) -> String {
    match kind {
        Kind::LParen => "'('".to_owned(),
        Kind::RParen => "')'".to_owned(),
        Kind::Comma => "','".to_owned(),
        Kind::Op(op) => format!("'{}'", op.symbol()),
        Kind::Word(w) if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
            format!("keyword {}", w.to_ascii_uppercase())
        }
        Kind::Word(w) => format!("'{}'", echo(w)),
        Kind::Int(n) => format!("number {}", echo(n)),
        Kind::Str(_) => "a quoted string".to_owned(),
        Kind::End => "end of input".to_owned(),
    }
}

/// A word shortened for a one-line message.
fn echo(word: &str) -> String {
    if word.chars().count() <= MAX_ECHO {
        word.to_owned()
    } else {
        let head: String = word.chars().take(MAX_ECHO).collect();
        format!("{head}…")
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    while let Some(c) = lexer.skip_whitespace() {
        let pos = lexer.pos;
        let kind = lexer.token(c)?;
        tokens.push(Token { kind, pos });
    }
    Ok(tokens)
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Skips whitespace and returns the next character, if any.
    fn skip_whitespace(&mut self) -> Option<char> {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.peek()
    }

    /// Consumes the token starting with `c` (the current character).
    fn token(&mut self, c: char) -> Result<Kind> {
        match c {
            '(' => Ok(self.single(Kind::LParen)),
            ')' => Ok(self.single(Kind::RParen)),
            ',' => Ok(self.single(Kind::Comma)),
            '=' => Ok(self.single(Kind::Op(CmpOp::Eq))),
            '!' => self.bang(),
            '<' => Ok(self.angle(CmpOp::Lt, CmpOp::Le)),
            '>' => Ok(self.angle(CmpOp::Gt, CmpOp::Ge)),
            '"' | '\'' => self.string(c),
            '-' | '0'..='9' => self.number(),
            c if c.is_ascii_alphabetic() || c == '_' => Ok(self.word()),
            c => Err(syntax(self.pos, format!("unexpected character {c:?}"))),
        }
    }

    fn single(&mut self, kind: Kind) -> Kind {
        self.pos += 1;
        kind
    }

    fn bang(&mut self) -> Result<Kind> {
        self.pos += 1;
        if self.peek() == Some('=') {
            Ok(self.single(Kind::Op(CmpOp::Ne)))
        } else {
            Err(syntax(
                self.pos - 1,
                "expected '=' after '!' (the operator is !=)",
            ))
        }
    }

    /// `<` / `>`, or `<=` / `>=` when an `=` follows.
    fn angle(&mut self, bare: CmpOp, with_eq: CmpOp) -> Kind {
        self.pos += 1;
        if self.peek() == Some('=') {
            self.single(Kind::Op(with_eq))
        } else {
            Kind::Op(bare)
        }
    }

    fn word(&mut self) -> Kind {
        let start = self.pos;
        while self.peek().is_some_and(is_word_char) {
            self.pos += 1;
        }
        Kind::Word(self.slice(start))
    }

    fn number(&mut self) -> Result<Kind> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(syntax(start, "expected a digit after '-'"));
            }
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        match self.peek() {
            Some('.') => Err(syntax(self.pos, "only whole numbers are allowed")),
            Some(c) if is_word_char(c) => Err(syntax(
                self.pos,
                format!("unexpected character {c:?} in a number"),
            )),
            _ => Ok(Kind::Int(self.slice(start))),
        }
    }

    /// A string quoted with `quote`; the current character is the opening quote.
    fn string(&mut self, quote: char) -> Result<Kind> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| syntax(start, format!("unterminated string: no closing {quote}")))?;
            self.pos += 1;
            if c == quote {
                return Ok(Kind::Str(value));
            }
            if c == '\\' {
                value.push(self.escape(start, quote)?);
            } else {
                value.push(c);
            }
        }
    }

    /// The character escaped by the `\` just consumed.
    fn escape(&mut self, start: usize, quote: char) -> Result<char> {
        match self.peek() {
            Some(c @ ('"' | '\'' | '\\')) => {
                self.pos += 1;
                Ok(c)
            }
            Some(c) => Err(syntax(
                self.pos - 1,
                format!("unknown escape \\{c} in a string (only \\\", \\' and \\\\ are allowed)"),
            )),
            None => Err(syntax(
                start,
                format!("unterminated string: no closing {quote}"),
            )),
        }
    }

    fn slice(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// The end-of-input token, returned once `tokens` is used up.
    end: Token,
    /// Parentheses currently open.
    depth: usize,
}

impl Parser {
    fn new(tokens: Vec<Token>, len: usize) -> Parser {
        Parser {
            tokens,
            next: 0,
            end: Token {
                kind: Kind::End,
                pos: len,
            },
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        self.tokens.get(self.next).unwrap_or(&self.end)
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        self.next += 1;
        token
    }

    /// Consumes the next token if it is `keyword`.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = is_keyword(&self.peek().kind, keyword);
        if found {
            self.next += 1;
        }
        found
    }

    /// The whole input as one expression.
    fn whole(mut self) -> Result<Node> {
        let root = self.expr()?;
        let token = self.bump();
        match token.kind {
            Kind::End => Ok(root),
            Kind::RParen => Err(syntax(token.pos, "unbalanced parentheses: ')' without '('")),
            other => Err(syntax(
                token.pos,
                format!(
                    "expected AND, OR or end of input, found {}",
                    describe(&other)
                ),
            )),
        }
    }

    fn expr(&mut self) -> Result<Node> {
        let first = self.and()?;
        let mut rest = Vec::new();
        while self.eat_keyword("OR") {
            rest.push(self.and()?);
        }
        Ok(combine(first, rest, Node::Any))
    }

    fn and(&mut self) -> Result<Node> {
        let first = self.unary()?;
        let mut rest = Vec::new();
        while self.eat_keyword("AND") {
            rest.push(self.unary()?);
        }
        Ok(combine(first, rest, Node::All))
    }

    fn unary(&mut self) -> Result<Node> {
        if self.peek().kind != Kind::LParen {
            return self.cond();
        }
        let open = self.bump();
        if self.depth >= MAX_NESTING {
            return Err(FilterError::TooDeep { pos: open.pos });
        }
        self.depth += 1;
        let inner = self.expr()?;
        self.depth -= 1;
        let close = self.bump();
        if close.kind == Kind::RParen {
            Ok(inner)
        } else {
            Err(unclosed(open.pos, &close))
        }
    }

    fn cond(&mut self) -> Result<Node> {
        let field = self.field()?;
        let token = self.bump();
        match token.kind {
            Kind::Op(op) => self.comparison(field, op, token.pos),
            Kind::Word(w) if w.eq_ignore_ascii_case("IN") => self.membership(field, false),
            Kind::Word(w) if w.eq_ignore_ascii_case("NOT") => {
                let next = self.bump();
                if is_keyword(&next.kind, "IN") {
                    self.membership(field, true)
                } else {
                    Err(syntax(
                        next.pos,
                        format!("expected IN after NOT, found {}", describe(&next.kind)),
                    ))
                }
            }
            other => Err(syntax(
                token.pos,
                format!(
                    "expected an operator, IN or NOT IN after {}, found {}",
                    field.name(),
                    describe(&other)
                ),
            )),
        }
    }

    fn field(&mut self) -> Result<Field> {
        let token = self.bump();
        if let Kind::Word(word) = &token.kind {
            if let Some(field) = Field::lookup(word) {
                return Ok(field);
            }
            if !KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) {
                return Err(syntax(
                    token.pos,
                    format!(
                        "unknown field '{}' (expected int_attr, int_attr2..4, str_attr or str_attr2..4)",
                        echo(word)
                    ),
                ));
            }
        }
        Err(syntax(
            token.pos,
            format!(
                "expected a field name or '(', found {}",
                describe(&token.kind)
            ),
        ))
    }

    /// `field op literal`, the operator already consumed.
    fn comparison(&mut self, field: Field, op: CmpOp, op_pos: usize) -> Result<Node> {
        let context = format!("after {} {}", field.name(), op.symbol());
        match field {
            Field::Int(slot) => Ok(Node::Int(slot, Test::Cmp(op, self.int(&context)?))),
            Field::Str(slot) if op.is_equality() => {
                Ok(Node::Str(slot, Test::Cmp(op, self.string(&context)?)))
            }
            Field::Str(_) => Err(syntax(
                op_pos,
                format!(
                    "operator {} is not allowed on string field {} (use =, !=, IN or NOT IN)",
                    op.symbol(),
                    field.name()
                ),
            )),
        }
    }

    /// `field [NOT] IN ( … )`, the keywords already consumed.
    fn membership(&mut self, field: Field, negated: bool) -> Result<Node> {
        let keyword = if negated { "NOT IN" } else { "IN" };
        let context = format!("in the {keyword} list of {}", field.name());
        let open = self.bump();
        if open.kind != Kind::LParen {
            return Err(syntax(
                open.pos,
                format!(
                    "expected '(' after {keyword}, found {}",
                    describe(&open.kind)
                ),
            ));
        }
        if self.peek().kind == Kind::RParen {
            return Err(syntax(self.peek().pos, format!("empty {keyword} list")));
        }
        Ok(match field {
            Field::Int(slot) => {
                let values = self.list(|p| p.int(&context))?;
                Node::Int(slot, Test::In { negated, values })
            }
            Field::Str(slot) => {
                let values = self.list(|p| p.string(&context))?;
                Node::Str(slot, Test::In { negated, values })
            }
        })
    }

    /// `literal { "," literal } ")"`, the `(` already consumed.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Parser) -> Result<T>) -> Result<Vec<T>> {
        let mut values = Vec::new();
        loop {
            values.push(item(self)?);
            let token = self.bump();
            match token.kind {
                Kind::Comma => {}
                Kind::RParen => return Ok(values),
                other => {
                    return Err(syntax(
                        token.pos,
                        format!(
                            "expected ',' or ')' in the list, found {}",
                            describe(&other)
                        ),
                    ))
                }
            }
        }
    }

    /// An int literal; `context` says where (`after int_attr >`).
    fn int(&mut self, context: &str) -> Result<i32> {
        let token = self.bump();
        match &token.kind {
            Kind::Int(raw) => raw.parse().map_err(|_| {
                syntax(
                    token.pos,
                    format!("integer {} is outside the int32 range", echo(raw)),
                )
            }),
            Kind::Str(_) => Err(syntax(
                token.pos,
                format!("expected an unquoted integer {context}, found a quoted string"),
            )),
            other => Err(syntax(
                token.pos,
                format!("expected an integer {context}, found {}", describe(other)),
            )),
        }
    }

    /// A string literal; `context` says where (`after str_attr =`).
    fn string(&mut self, context: &str) -> Result<String> {
        let token = self.bump();
        match token.kind {
            Kind::Str(value) => Ok(value),
            other => Err(syntax(
                token.pos,
                format!(
                    "expected a quoted string {context}, found {}",
                    describe(&other)
                ),
            )),
        }
    }
}

/// The error for `close`, found where the `)` matching the `(` at `open` belongs.
fn unclosed(open: usize, close: &Token) -> FilterError {
    let what = if close.kind == Kind::End {
        "unbalanced parentheses: expected ')'"
    } else {
        "expected AND, OR or ')'"
    };
    syntax(
        close.pos,
        format!(
            "{what} closing the '(' at {open}, found {}",
            describe(&close.kind)
        ),
    )
}

/// A lone operand as itself, several under `make` (`AND` / `OR`).
fn combine(first: Node, mut rest: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Node {
    if rest.is_empty() {
        first
    } else {
        rest.insert(0, first);
        make(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs<'a>(ints: [i32; 4], strs: [&'a str; 4]) -> Attributes<'a> {
        Attributes {
            int_attrs: ints,
            str_attrs: strs,
        }
    }

    fn ints(a: i32, b: i32) -> Attributes<'static> {
        attrs([a, b, 0, 0], [""; 4])
    }

    fn parse(text: &str) -> Filter {
        match Filter::parse(text) {
            Ok(f) => f,
            Err(e) => panic!("{text:?} should parse: {e}"),
        }
    }

    fn error(text: &str) -> String {
        match Filter::parse(text) {
            Ok(f) => panic!("{text:?} should be rejected, parsed as {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn rejects(text: &str, needle: &str) {
        let msg = error(text);
        assert!(
            msg.contains(needle),
            "{text:?}: message {msg:?} lacks {needle:?}"
        );
        assert!(!msg.contains('\n'), "multi-line message {msg:?}");
    }

    // --- vendor-style examples -------------------------------------------------------------

    #[test]
    fn int_ordering() {
        let f = parse("int_attr>=100");
        assert!(f.matches(&ints(100, 0)));
        assert!(f.matches(&ints(101, 0)));
        assert!(!f.matches(&ints(99, 0)));
    }

    #[test]
    fn every_int_operator() {
        let cases = [
            ("=", [false, true, false]),
            ("!=", [true, false, true]),
            (">", [false, false, true]),
            (">=", [false, true, true]),
            ("<", [true, false, false]),
            ("<=", [true, true, false]),
        ];
        for (op, expected) in cases {
            let f = parse(&format!("int_attr3 {op} 5"));
            for (value, want) in [4, 5, 6].into_iter().zip(expected) {
                let a = attrs([0, 0, value, 0], [""; 4]);
                assert_eq!(f.matches(&a), want, "{value} {op} 5");
            }
        }
    }

    #[test]
    fn string_and_int() {
        let f = parse(r#"str_attr="value1" AND int_attr2<1000"#);
        assert!(f.matches(&attrs([0, 999, 0, 0], ["value1", "", "", ""])));
        assert!(!f.matches(&attrs([0, 1000, 0, 0], ["value1", "", "", ""])));
        assert!(!f.matches(&attrs([0, 999, 0, 0], ["value2", "", "", ""])));
    }

    #[test]
    fn parenthesised_or() {
        let f = parse(r#"(int_attr=1 OR int_attr=2) AND str_attr!="x""#);
        assert!(f.matches(&attrs([1, 0, 0, 0], ["y", "", "", ""])));
        assert!(f.matches(&attrs([2, 0, 0, 0], ["", "", "", ""])));
        assert!(!f.matches(&attrs([2, 0, 0, 0], ["x", "", "", ""])));
        assert!(!f.matches(&attrs([3, 0, 0, 0], ["y", "", "", ""])));
    }

    #[test]
    fn camel_case_in_list() {
        let f = parse("intAttr2 IN (1,2,3)");
        for (v, want) in [(0, false), (1, true), (2, true), (3, true), (4, false)] {
            assert_eq!(f.matches(&ints(0, v)), want, "{v}");
        }
    }

    #[test]
    fn not_in_with_mixed_quotes() {
        let f = parse(r#"str_attr NOT IN ("a",'b')"#);
        for (v, want) in [
            ("a", false),
            ("b", false),
            ("c", true),
            ("", true),
            ("A", true),
        ] {
            assert_eq!(f.matches(&attrs([0; 4], [v, "", "", ""])), want, "{v}");
        }
    }

    #[test]
    fn int_not_in() {
        let f = parse("int_attr4 not in (-1, 0)");
        assert!(!f.matches(&attrs([0; 4], [""; 4])));
        assert!(f.matches(&attrs([0, 0, 0, 7], [""; 4])));
    }

    #[test]
    fn precedence_and_binds_tighter() {
        // a OR b AND c  ==  a OR (b AND c), not (a OR b) AND c.
        let f = parse("int_attr=1 OR int_attr2=1 AND int_attr3=1");
        let g = parse("int_attr=1 OR (int_attr2=1 AND int_attr3=1)");
        assert_eq!(f, g);
        // a true, b false, c false: a OR (b AND c) is true, (a OR b) AND c is false.
        assert!(f.matches(&attrs([1, 0, 0, 0], [""; 4])));
        let h = parse("(int_attr=1 OR int_attr2=1) AND int_attr3=1");
        assert!(!h.matches(&attrs([1, 0, 0, 0], [""; 4])));
        // b AND c OR a
        let k = parse("int_attr2=1 AND int_attr3=1 OR int_attr=1");
        assert!(k.matches(&attrs([1, 0, 0, 0], [""; 4])));
    }

    #[test]
    fn every_field_name_and_case() {
        let names = [
            ("int_attr", 0),
            ("INT_ATTR2", 1),
            ("intattr3", 2),
            ("IntAttr4", 3),
        ];
        for (name, slot) in names {
            let f = parse(&format!("{name} = 9"));
            let mut values = [0; 4];
            values[slot] = 9;
            assert!(f.matches(&attrs(values, [""; 4])), "{name}");
            assert!(!f.matches(&attrs([0; 4], [""; 4])), "{name}");
        }
        let names = [
            ("strAttr", 0),
            ("str_attr2", 1),
            ("STRATTR3", 2),
            ("Str_Attr4", 3),
        ];
        for (name, slot) in names {
            let f = parse(&format!("{name} = 'v'"));
            let mut values = [""; 4];
            values[slot] = "v";
            assert!(f.matches(&attrs([0; 4], values)), "{name}");
            assert!(!f.matches(&attrs([0; 4], [""; 4])), "{name}");
        }
    }

    #[test]
    fn keywords_case_insensitive_and_tight_spacing() {
        let f = parse(r#"(int_attr>=1)or(str_attr in("a"))AnD int_attr2<=-3"#);
        assert!(f.matches(&attrs([1, -3, 0, 0], [""; 4])));
        assert!(f.matches(&attrs([0, -4, 0, 0], ["a", "", "", ""])));
        assert!(!f.matches(&attrs([0, -4, 0, 0], ["b", "", "", ""])));
        // A OR (B AND C): A alone suffices, B without C does not.
        assert!(f.matches(&attrs([1, 0, 0, 0], [""; 4])));
        assert!(!f.matches(&attrs([0, 0, 0, 0], ["a", "", "", ""])));
        parse("\tint_attr\n=\r\n1 ");
        parse("str_attr!='x'");
        parse("int_attr=007");
        parse("int_attr=-0");
    }

    #[test]
    fn string_escapes_and_unicode() {
        let f = parse(r#"str_attr = "a\"b\\c\'d""#);
        assert!(f.matches(&attrs([0; 4], [r#"a"b\c'd"#, "", "", ""])));
        let f = parse(r"str_attr = 'it\'s'");
        assert!(f.matches(&attrs([0; 4], ["it's", "", "", ""])));
        let f = parse(r#"str_attr = 'say "hi"'"#);
        assert!(f.matches(&attrs([0; 4], [r#"say "hi""#, "", "", ""])));
        let f = parse("str_attr2 = \"红色 ✓ 🚀\"");
        assert!(f.matches(&attrs([0; 4], ["", "红色 ✓ 🚀", "", ""])));
        let f = parse(r#"str_attr = """#);
        assert!(f.matches(&attrs([0; 4], [""; 4])));
        assert!(!f.matches(&attrs([0; 4], [" ", "", "", ""])));
        // exact: case-sensitive, no trimming
        let f = parse("str_attr = 'Abc'");
        assert!(!f.matches(&attrs([0; 4], ["abc", "", "", ""])));
        assert!(!f.matches(&attrs([0; 4], ["Abc ", "", "", ""])));
    }

    #[test]
    fn long_chains_parse_flat() {
        let chain = vec!["int_attr=1"; 250].join(" AND ");
        let f = parse(&chain);
        assert!(f.matches(&ints(1, 0)));
        let chain = vec!["int_attr=1"; 250].join(" or ");
        assert!(!parse(&chain).matches(&ints(2, 0)));
    }

    // --- rejections ------------------------------------------------------------------------

    #[test]
    fn rejects_unknown_field() {
        rejects("price > 5", "at 0: unknown field 'price'");
        rejects("int_attr1 = 5", "unknown field 'int_attr1'");
        rejects("int_attr5 = 5", "unknown field");
        rejects(
            "int_attr = 1 AND AND int_attr = 2",
            "at 17: expected a field name or '(', found keyword AND",
        );
        rejects("= 5", "at 0: expected a field name or '(', found '='");
        rejects("5 = int_attr", "found number 5");
    }

    #[test]
    fn rejects_ordering_on_strings() {
        for op in [">", ">=", "<", "<="] {
            rejects(
                &format!("str_attr {op} \"a\""),
                &format!("at 9: operator {op} is not allowed on string field str_attr"),
            );
        }
    }

    #[test]
    fn rejects_unquoted_strings() {
        rejects(
            "str_attr = abc",
            "at 11: expected a quoted string after str_attr =, found 'abc'",
        );
        rejects(
            "str_attr2 = 5",
            "expected a quoted string after str_attr2 =, found number 5",
        );
        rejects(
            "str_attr IN (\"a\", b)",
            "expected a quoted string in the IN list of str_attr",
        );
        rejects(
            "int_attr=1 AND str_attr = x",
            "at 26: expected a quoted string after str_attr =",
        );
    }

    #[test]
    fn rejects_quoted_ints() {
        rejects(
            "int_attr = \"5\"",
            "at 11: expected an unquoted integer after int_attr =",
        );
        rejects(
            "int_attr IN (1, '2')",
            "in the IN list of int_attr, found a quoted string",
        );
        rejects(
            "int_attr = abc",
            "expected an integer after int_attr =, found 'abc'",
        );
    }

    #[test]
    fn int32_bounds() {
        let f = parse("int_attr = -2147483648");
        assert!(f.matches(&ints(i32::MIN, 0)));
        let f = parse("int_attr = 2147483647");
        assert!(f.matches(&ints(i32::MAX, 0)));
        rejects(
            "int_attr = 2147483648",
            "at 11: integer 2147483648 is outside the int32 range",
        );
        rejects("int_attr = -2147483649", "outside the int32 range");
        rejects(
            "int_attr IN (1, 99999999999999999999999)",
            "outside the int32 range",
        );
        rejects("int_attr = 1.5", "at 12: only whole numbers are allowed");
        rejects("int_attr = +1", "unexpected character '+'");
        rejects("int_attr = - 1", "at 11: expected a digit after '-'");
        rejects(
            "int_attr = 1AND int_attr=2",
            "unexpected character 'A' in a number",
        );
    }

    #[test]
    fn rejects_empty_in_list() {
        rejects("int_attr IN ()", "at 13: empty IN list");
        rejects("str_attr NOT IN ( )", "empty NOT IN list");
        rejects(
            "int_attr IN (1,)",
            "expected an integer in the IN list of int_attr, found ')'",
        );
        rejects(
            "int_attr IN (1 2)",
            "expected ',' or ')' in the list, found number 2",
        );
        rejects("int_attr IN 1", "expected '(' after IN, found number 1");
        rejects(
            "int_attr IN (1",
            "expected ',' or ')' in the list, found end of input",
        );
    }

    #[test]
    fn rejects_unbalanced_parentheses() {
        rejects(
            "(int_attr = 1",
            "at 13: unbalanced parentheses: expected ')' closing the '(' at 0",
        );
        rejects(
            "int_attr = 1)",
            "at 12: unbalanced parentheses: ')' without '('",
        );
        rejects("((int_attr = 1)", "unbalanced parentheses");
        rejects(
            "(int_attr = 1 int_attr2 = 2)",
            "expected AND, OR or ')' closing the '(' at 0",
        );
        rejects("()", "at 1: expected a field name or '(', found ')'");
    }

    #[test]
    fn rejects_trailing_tokens() {
        rejects(
            "int_attr = 1 int_attr2 = 2",
            "at 13: expected AND, OR or end of input, found 'int_attr2'",
        );
        rejects(
            "int_attr = 1 AND",
            "at 16: expected a field name or '(', found end of input",
        );
        rejects("int_attr = 1 OR", "found end of input");
        rejects("int_attr = 1 2", "found number 2");
        rejects("int_attr = 1,", "found ','");
    }

    #[test]
    fn rejects_empty_expression() {
        for text in ["", " ", "\t\r\n "] {
            assert_eq!(Filter::parse(text), Err(FilterError::Empty), "{text:?}");
        }
        assert_eq!(error(""), "empty filter expression");
    }

    #[test]
    fn rejects_other_operators_and_keywords() {
        rejects(
            "int_attr == 1",
            "at 10: expected an integer after int_attr =, found '='",
        );
        rejects("int_attr <> 1", "found '>'");
        rejects("int_attr ! 1", "at 9: expected '=' after '!'");
        rejects(
            "int_attr NOT = 1",
            "at 13: expected IN after NOT, found '='",
        );
        rejects("NOT int_attr = 1", "found keyword NOT");
        rejects("NOT (int_attr = 1)", "found keyword NOT");
        rejects(
            "int_attr NOTIN (1)",
            "expected an operator, IN or NOT IN after int_attr, found 'NOTIN'",
        );
        rejects("int_attr", "found end of input");
        rejects("int_attr = 1 && int_attr2 = 2", "unexpected character '&'");
        rejects("int_attr\u{a0}= 1", "unexpected character '\\u{a0}'");
    }

    #[test]
    fn rejects_bad_strings() {
        rejects(
            "str_attr = \"abc",
            "at 11: unterminated string: no closing \"",
        );
        rejects("str_attr = 'abc\"", "unterminated string: no closing '");
        rejects("str_attr = 'abc\\", "unterminated string");
        rejects("str_attr = 'a\\nb'", "at 13: unknown escape \\n");
    }

    #[test]
    fn length_limit() {
        let head = "str_attr = \"";
        let body = |n: usize| format!("{head}{}\"", "x".repeat(n - head.len() - 1));
        let ok = body(MAX_FILTER_LEN);
        assert_eq!(ok.chars().count(), 4096);
        parse(&ok);
        let long = body(MAX_FILTER_LEN + 1);
        assert_eq!(
            Filter::parse(&long),
            Err(FilterError::TooLong { len: 4097 })
        );
        assert_eq!(
            error(&long),
            "filter is 4097 characters long; at most 4096 are allowed"
        );
        // Characters, not bytes: 4096 three-byte characters are fine.
        let wide = format!("{head}{}\"", "红".repeat(MAX_FILTER_LEN - head.len() - 1));
        assert!(wide.len() > MAX_FILTER_LEN);
        parse(&wide);
        // The limit applies before anything else.
        let junk = "(".repeat(MAX_FILTER_LEN + 1);
        assert!(matches!(
            Filter::parse(&junk),
            Err(FilterError::TooLong { .. })
        ));
    }

    #[test]
    fn nesting_limit() {
        let nested = |n: usize| format!("{}int_attr=1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nested(MAX_NESTING)).matches(&ints(1, 0)));
        assert_eq!(
            Filter::parse(&nested(MAX_NESTING + 1)),
            Err(FilterError::TooDeep { pos: MAX_NESTING })
        );
        assert_eq!(
            error(&nested(MAX_NESTING + 1)),
            "at 64: parentheses nested deeper than 64 levels"
        );
        // As deep as the length limit allows, balanced or not: an error, no stack overflow.
        let deep = nested(2040);
        assert!(deep.len() <= MAX_FILTER_LEN);
        assert!(matches!(
            Filter::parse(&deep),
            Err(FilterError::TooDeep { .. })
        ));
        let open = "(".repeat(MAX_FILTER_LEN);
        assert!(matches!(
            Filter::parse(&open),
            Err(FilterError::TooDeep { .. })
        ));
        // Depth is about nesting, not the number of groups.
        let many = vec!["(int_attr=1)"; 200].join(" OR ");
        parse(&many);
    }

    #[test]
    fn default_attributes_are_unset_values() {
        let a = Attributes::default();
        assert!(parse("int_attr = 0 AND str_attr4 = ''").matches(&a));
    }

    // --- no panics -------------------------------------------------------------------------

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const SOUP: &[&str] = &[
        "int_attr",
        "intAttr2",
        "INT_ATTR3",
        "int_attr4",
        "str_attr",
        "strAttr2",
        "str_attr3",
        "STR_ATTR4",
        "int_attr5",
        "foo",
        "AND",
        "or",
        "Not",
        "in",
        "(",
        ")",
        ",",
        "=",
        "!=",
        ">",
        ">=",
        "<",
        "<=",
        "!",
        "==",
        "0",
        "-1",
        "42",
        "2147483647",
        "-2147483648",
        "2147483648",
        "99999999999999999999",
        "-",
        "1.5",
        "\"a\"",
        "'b'",
        "\"\"",
        "\"x\\\"y\"",
        "'unterminated",
        "\"\\q\"",
        "\\",
        "\"红\"",
        "é",
        " ",
        "\t",
        "\n",
        "_",
        "\0",
    ];

    fn check_no_panic(text: &str, rng: &mut XorShift) {
        match Filter::parse(text) {
            Ok(filter) => {
                let ints = [(); 4].map(|_| (rng.below(7) as i32) - 3);
                let _ = filter.matches(&attrs(ints, ["a", "b", "", "x\"y"]));
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty() && !msg.contains('\n'), "{text:?}: {msg:?}");
            }
        }
    }

    #[test]
    fn fuzz_random_bytes() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..10_000 {
            let len = rng.below(64);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let text = String::from_utf8_lossy(&bytes);
            check_no_panic(&text, &mut rng);
            // Printable ASCII exercises the tokenizer far more than arbitrary bytes.
            let ascii: String = bytes.iter().map(|b| char::from(b' ' + b % 95)).collect();
            check_no_panic(&ascii, &mut rng);
        }
    }

    #[test]
    fn fuzz_token_soup() {
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let count = rng.below(24);
            let mut text = String::new();
            for _ in 0..count {
                text.push_str(SOUP[rng.below(SOUP.len())]);
                if rng.below(3) > 0 {
                    text.push(' ');
                }
            }
            check_no_panic(&text, &mut rng);
            parsed += usize::from(Filter::parse(&text).is_ok());
        }
        // Sanity: the soup is not all rejected (it is mostly rejected, which is fine).
        assert!(parsed > 0);
    }

    #[test]
    fn fuzz_long_inputs() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..200 {
            let mut text = String::new();
            while text.len() < MAX_FILTER_LEN + 10 {
                text.push_str(SOUP[rng.below(SOUP.len())]);
            }
            let cut = MAX_FILTER_LEN - 8 + rng.below(16);
            let text: String = text.chars().take(cut).collect();
            check_no_panic(&text, &mut rng);
        }
    }
}

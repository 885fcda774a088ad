//! Expressions, compiled straight to postfix ops (spec §6.3).
//!
//! Precedence, loosest first: `||`, `&&`, comparisons (not associative),
//! `^`, `|`, `&`, `+ -`, `* /`, prefix `!` (whose operand is an additive
//! expression), then `.method(…)` calls on a primary.

use super::term::Ctx;
use super::{PResult, Parser};
use crate::datalog::{Binary, Op, Unary};

/// The level of prefix `!` and method calls, below every binary level.
const UNARY_LEVEL: u8 = 8;
/// The level `!` parses its operand at (`+ -`).
const ADDITIVE_LEVEL: u8 = 6;
const COMPARISON_LEVEL: u8 = 2;

impl<'a> Parser<'a> {
    pub(super) fn expr(&mut self) -> PResult<Vec<Op>> {
        self.binary_level(0)
    }

    /// The binary operator of `level` at the current position, if any.
    fn binary_op(&mut self, level: u8) -> Option<Binary> {
        let table: &[(&str, Binary)] = match level {
            0 => &[("||", Binary::LazyOr)],
            1 => &[("&&", Binary::LazyAnd)],
            2 => &[
                ("<=", Binary::LessOrEqual),
                (">=", Binary::GreaterOrEqual),
                ("<", Binary::LessThan),
                (">", Binary::GreaterThan),
                ("===", Binary::Equal),
                ("!==", Binary::NotEqual),
                ("==", Binary::HeterogeneousEqual),
                ("!=", Binary::HeterogeneousNotEqual),
            ],
            3 => &[("^", Binary::BitwiseXor)],
            4 => &[("|", Binary::BitwiseOr)],
            5 => &[("&", Binary::BitwiseAnd)],
            6 => &[("+", Binary::Add), ("-", Binary::Sub)],
            _ => &[("*", Binary::Mul), ("/", Binary::Div)],
        };
        table
            .iter()
            .find(|(text, _)| self.eat(text))
            .map(|(_, op)| op.clone())
    }

    fn binary_level(&mut self, level: u8) -> PResult<Vec<Op>> {
        if level >= UNARY_LEVEL {
            return self.unary();
        }
        let mut left = self.binary_level(level + 1)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            let Some(op) = self.binary_op(level) else {
                self.pos = save;
                return Ok(left);
            };
            let right = match self.binary_level(level + 1) {
                Ok(right) => right,
                Err(fail) if fail.hard => return Err(fail),
                Err(_) => {
                    // Not an operator after all (`|` of `||`, …).
                    self.pos = save;
                    return Ok(left);
                }
            };
            if matches!(op, Binary::LazyAnd | Binary::LazyOr) {
                left.push(Op::Closure(Vec::new(), right));
            } else {
                left.extend(right);
            }
            left.push(Op::Binary(op));
            if level == COMPARISON_LEVEL {
                // Comparisons do not chain.
                return Ok(left);
            }
        }
    }

    /// `!` operand, or a primary followed by method calls.
    fn unary(&mut self) -> PResult<Vec<Op>> {
        self.skip_ws();
        if self.peek() == Some(b'!') {
            self.pos += 1;
            return self.nested(|p| {
                p.skip_ws();
                let mut ops = p.binary_level(ADDITIVE_LEVEL)?;
                ops.push(Op::Unary(Unary::Negate));
                Ok(ops)
            });
        }
        let mut ops = self.primary()?;
        while self.peek() == Some(b'.') {
            self.pos += 1;
            ops = self.method(ops)?;
        }
        Ok(ops)
    }

    /// `( expr )`, kept as a `Parens` op, or a term.
    fn primary(&mut self) -> PResult<Vec<Op>> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            self.pos += 1;
            return self.nested(|p| {
                p.skip_ws();
                let mut ops = p.expr()?;
                p.skip_ws();
                if !p.eat(")") {
                    let pos = p.pos;
                    return Err(p.soft(pos, format!("expected ')', found {}", p.excerpt(pos))));
                }
                ops.push(Op::Unary(Unary::Parens));
                Ok(ops)
            });
        }
        Ok(vec![Op::Value(self.term(Ctx::Any)?)])
    }

    /// A method call after the `.`, applied to `receiver`.
    fn method(&mut self, mut receiver: Vec<Op>) -> PResult<Vec<Op>> {
        let start = self.pos;
        let name = self.name_chars();
        let external = name.strip_prefix("extern::").filter(|f| !f.is_empty());
        let binary = match name {
            "contains" => Some(Binary::Contains),
            "starts_with" => Some(Binary::Prefix),
            "ends_with" => Some(Binary::Suffix),
            "matches" => Some(Binary::Regex),
            "intersection" => Some(Binary::Intersection),
            "union" => Some(Binary::Union),
            "all" => Some(Binary::All),
            "any" => Some(Binary::Any),
            "get" => Some(Binary::Get),
            _ => external.map(|f| Binary::Ffi(f.to_string())),
        };
        let unary = match name {
            "length" => Some(Unary::Length),
            "type" => Some(Unary::TypeOf),
            _ => external.map(|f| Unary::Ffi(f.to_string())),
        };
        if binary.is_none() && unary.is_none() {
            return Err(self.soft(start, format!("unknown method {}", self.excerpt(start))));
        }
        if !self.eat("(") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!(
                    "expected '(' after `.{}`, found {}",
                    name,
                    self.excerpt(pos)
                ),
            ));
        }
        let after_paren = self.pos;
        self.skip_ws();
        if self.peek() == Some(b')') {
            if let Some(op) = unary {
                self.pos += 1;
                receiver.push(Op::Unary(op));
                return Ok(receiver);
            }
        }
        self.pos = after_paren;
        let Some(op) = binary else {
            let pos = self.pos;
            return Err(self.soft(pos, format!("`.{}()` takes no argument", name)));
        };
        self.nested(|p| {
            p.skip_ws();
            if matches!(op, Binary::All | Binary::Any) {
                if !p.eat("$") {
                    let pos = p.pos;
                    return Err(p.soft(
                        pos,
                        format!(
                            "expected a closure `$param -> expression`, found {}",
                            p.excerpt(pos)
                        ),
                    ));
                }
                let param = p.name()?;
                p.skip_ws();
                if !p.eat("->") {
                    let pos = p.pos;
                    return Err(p.soft(pos, format!("expected '->', found {}", p.excerpt(pos))));
                }
                p.skip_ws();
                let body = p.expr()?;
                receiver.push(Op::Closure(vec![param], body));
            } else {
                let argument = p.expr()?;
                receiver.extend(argument);
            }
            p.skip_ws();
            if !p.eat(")") {
                let pos = p.pos;
                return Err(p.soft(pos, format!("expected ')', found {}", p.excerpt(pos))));
            }
            receiver.push(Op::Binary(op));
            Ok(receiver)
        })
    }
}

//! PromQL parsing: lexer, parser (nom) and printer.

pub mod ast;

//! A YAML emitter for the session cache: block style as PyYAML's `safe_dump` lays
//! it out, every string plain only where a YAML 1.1 reader cannot mistake it.

use serde_yaml_ng::Value as Yaml;
use std::fmt::Write as _;

/// Block-style YAML as PyYAML's `safe_dump` lays it out (sequences at their key's
/// indentation), with every string either plain and unambiguous for a YAML 1.1 reader or
/// double-quoted.
pub(super) fn emit_yaml(doc: &Yaml) -> std::result::Result<String, String> {
    let mut out = String::new();
    match doc {
        Yaml::Mapping(m) if !m.is_empty() => emit_block(doc, 0, false, &mut out)?,
        Yaml::Sequence(s) if !s.is_empty() => emit_block(doc, 0, false, &mut out)?,
        scalar => {
            emit_scalar(scalar, &mut out)?;
            out.push('\n');
        }
    }
    Ok(out)
}

pub(super) fn is_block(value: &Yaml) -> bool {
    match value {
        Yaml::Mapping(m) => !m.is_empty(),
        Yaml::Sequence(s) => !s.is_empty(),
        _ => false,
    }
}

/// Writes a non-empty mapping or sequence; with `inline` its first line continues the
/// current one (after `- `).
pub(super) fn emit_block(
    value: &Yaml,
    indent: usize,
    inline: bool,
    out: &mut String,
) -> std::result::Result<(), String> {
    let pad = |out: &mut String, first: bool| {
        if !(inline && first) {
            out.extend(std::iter::repeat_n(' ', indent));
        }
    };
    match value {
        Yaml::Mapping(m) => {
            for (i, (key, val)) in m.iter().enumerate() {
                pad(out, i == 0);
                if is_block(key) {
                    return Err("a mapping key is not a scalar".into());
                }
                emit_scalar(key, out)?;
                out.push(':');
                match val {
                    Yaml::Mapping(_) if is_block(val) => {
                        out.push('\n');
                        emit_block(val, indent + 2, false, out)?;
                    }
                    Yaml::Sequence(_) if is_block(val) => {
                        out.push('\n');
                        emit_block(val, indent, false, out)?;
                    }
                    _ => {
                        out.push(' ');
                        emit_scalar(val, out)?;
                        out.push('\n');
                    }
                }
            }
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                pad(out, i == 0);
                out.push_str("- ");
                if is_block(item) {
                    emit_block(item, indent + 2, true, out)?;
                } else {
                    emit_scalar(item, out)?;
                    out.push('\n');
                }
            }
        }
        _ => unreachable!("emit_block is only called on mappings and sequences"),
    }
    Ok(())
}

pub(super) fn emit_scalar(value: &Yaml, out: &mut String) -> std::result::Result<(), String> {
    match value {
        Yaml::Null => out.push_str("null"),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                out.push_str(&yaml11_float(f));
            } else {
                write!(out, "{n}").expect("writing to a String cannot fail");
            }
        }
        Yaml::String(s) => emit_yaml_str(s, out),
        Yaml::Mapping(_) => out.push_str("{}"),
        Yaml::Sequence(_) => out.push_str("[]"),
        Yaml::Tagged(_) => return Err("a value carries a YAML tag, which is not supported".into()),
    }
    Ok(())
}

/// A float PyYAML's YAML 1.1 resolver reads as a float: it needs a `.` and a signed
/// exponent (`1.0e+20`), which Rust's formatting does not always give.
pub(super) fn yaml11_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-.inf" } else { ".inf" }.into();
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_owned()
            } else {
                format!("{mantissa}.0")
            };
            let exp = if exp.starts_with('-') {
                exp.to_owned()
            } else {
                format!("+{exp}")
            };
            format!("{mantissa}e{exp}")
        }
        None => s,
    }
}

/// Plain only for `[A-Za-z_][A-Za-z0-9_.@-]*` minus the words YAML 1.1 reads as booleans
/// or null; anything else double-quoted with ASCII escapes.
pub(super) fn emit_yaml_str(s: &str, out: &mut String) {
    const RESERVED: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        let cp = u32::from(c);
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            ' '..='~' => {
                out.push(c);
                continue;
            }
            _ => {
                let written = if cp <= 0xFF {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xFFFF {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
                written.expect("writing to a String cannot fail");
                continue;
            }
        };
        out.push_str(escaped);
    }
    out.push('"');
}

//! JSON skeletons: an object schema flattened into the literal text we
//! write (braces, keys, commas) and the leaves the model fills, each under
//! its own small grammar (see [`super::fill`]).

/// One piece of a JSON skeleton.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Literal JSON text (braces, keys, commas).
    Text(String),
    /// A value the model writes, constrained by a GBNF grammar; `path` names
    /// it (`pain`, `disqualifiers.job_seeker`) in the answer's confidences;
    /// `span`: the texts the value must be a span of (see [`super::span`]),
    /// which also draft its next words (see [`super::draft`]).
    Value {
        path: String,
        gbnf: String,
        span: Option<Vec<String>>,
        /// For a leaf that must be one of two or more strings (an enum
        /// without `null`), the options as JSON text (`"job"`): the answer
        /// reports how the model's probability split between them.
        options: Vec<String>,
    },
}

/// A span leaf whose first tokens (the opening quote and the first word or
/// two) were not the model's own choice reports confidence 0: the model
/// wanted to write something that is not in the lead's words.
pub(super) const FORCED_WITHIN: usize = 3;

/// Most tokens one leaf value may take before it is cut short.
pub(super) const LEAF_MAX_TOKENS: usize = 48;

/// Flattens an object schema into literal text and leaf values. Objects with
/// `properties` (and not nullable) are spelled out, pretty-printed the way the
/// model writes JSON itself; anything else is a leaf. Keys end at the colon and
/// a leaf may start with a space, so the model tokenizes ` "value"` naturally.
pub(super) fn skeleton(
    schema: &serde_json::Value,
    path: &str,
    indent: usize,
    steps: &mut Vec<Step>,
) -> std::result::Result<(), String> {
    let props = schema.get("properties").and_then(|p| p.as_object());
    match props {
        Some(props)
            if schema.get("type").and_then(|t| t.as_str()) == Some("object")
                && !props.is_empty() =>
        {
            steps.push(Step::Text(if indent == 0 { "{" } else { " {" }.into()));
            let pad = " ".repeat(indent + 2);
            for (i, (name, sub)) in props.iter().enumerate() {
                let key = serde_json::to_string(name).map_err(|e| e.to_string())?;
                let sep = if i == 0 { "" } else { "," };
                steps.push(Step::Text(format!("{sep}\n{pad}{key}:")));
                let path = match path {
                    "" => name.clone(),
                    parent => format!("{parent}.{name}"),
                };
                skeleton(sub, &path, indent + 2, steps)?;
            }
            steps.push(Step::Text(format!("\n{}}}", " ".repeat(indent))));
        }
        _ => {
            let span = span_sources(schema);
            let grammar = match &span {
                Some(texts) => super::span::grammar(texts),
                None => llama_cpp_2::json_schema_to_grammar(&schema.to_string())
                    .map_err(|e| format!("JSON schema to grammar: {e}"))?,
            };
            // Rename the generated root and allow one leading space.
            let mut renamed = String::new();
            for line in grammar.lines() {
                match line.strip_prefix("root ::=") {
                    Some(rest) => renamed.push_str(&format!("leaf-value ::={rest}")),
                    None => renamed.push_str(line),
                }
                renamed.push('\n');
            }
            // A trailing `,` or newline is accepted (and removed again): the model
            // likes tokens such as `",` that close a value and go on.
            renamed.push_str("root ::= \" \"? leaf-value \",\"? \"\\n\"?\n");
            steps.push(Step::Value {
                path: path.to_string(),
                gbnf: renamed,
                span,
                options: options_of(schema),
            });
        }
    }
    Ok(())
}

/// A leaf's options when it must be one of two or more strings (see
/// [`Step::Value`]); empty otherwise, `null` allowed included.
fn options_of(schema: &serde_json::Value) -> Vec<String> {
    let Some(values) = schema.get("enum").and_then(|e| e.as_array()) else {
        return Vec::new();
    };
    let strings: Vec<String> = values
        .iter()
        .filter_map(|v| v.as_str().map(|_| v.to_string()))
        .collect();
    if strings.len() < 2 || strings.len() != values.len() {
        return Vec::new();
    }
    strings
}

/// The texts a string leaf must be a span of (see [`crate::llm::SPAN_OF`]).
pub(super) fn span_sources(schema: &serde_json::Value) -> Option<Vec<String>> {
    let texts = schema.get(crate::llm::SPAN_OF)?.as_array()?;
    Some(
        texts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
    )
}

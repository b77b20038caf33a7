//! The simulator's SCPI parser: program messages into headers and typed
//! parameters, header matching against the command tree (long and short
//! forms, optional nodes, numeric suffixes), and the response encodings.
//!
//! Rules follow IEEE 488.2 and SCPI-99 as summarised in the parent module's
//! documentation; nothing here is shared with the driver.

use std::fmt;
use std::sync::OnceLock;

/// An SCPI error queue entry (standard numbers and texts, SCPI-99 chapter 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub(crate) enum ScpiError {
    Command = -100,
    Syntax = -102,
    DataType = -104,
    ParameterNotAllowed = -108,
    MissingParameter = -109,
    MnemonicTooLong = -112,
    UndefinedHeader = -113,
    HeaderSuffixOutOfRange = -114,
    InvalidSuffix = -131,
    SuffixNotAllowed = -138,
    SettingsConflict = -221,
    DataOutOfRange = -222,
    IllegalParameterValue = -224,
    DataStale = -230,
    QueueOverflow = -350,
    QueryInterrupted = -410,
}

impl ScpiError {
    pub(crate) fn code(self) -> i32 {
        self as i32
    }

    pub(crate) fn text(self) -> &'static str {
        match self {
            ScpiError::Command => "Command error",
            ScpiError::Syntax => "Syntax error",
            ScpiError::DataType => "Data type error",
            ScpiError::ParameterNotAllowed => "Parameter not allowed",
            ScpiError::MissingParameter => "Missing parameter",
            ScpiError::MnemonicTooLong => "Program mnemonic too long",
            ScpiError::UndefinedHeader => "Undefined header",
            ScpiError::HeaderSuffixOutOfRange => "Header suffix out of range",
            ScpiError::InvalidSuffix => "Invalid suffix",
            ScpiError::SuffixNotAllowed => "Suffix not allowed",
            ScpiError::SettingsConflict => "Settings conflict",
            ScpiError::DataOutOfRange => "Data out of range",
            ScpiError::IllegalParameterValue => "Illegal parameter value",
            ScpiError::DataStale => "Data corrupt or stale",
            ScpiError::QueueOverflow => "Queue overflow",
            ScpiError::QueryInterrupted => "Query INTERRUPTED",
        }
    }

    /// Command errors (-1xx) make the parser drop the rest of the message;
    /// execution errors (-2xx) do not (IEEE 488.2 section 6.1.6).
    pub(crate) fn is_command_error(self) -> bool {
        (-199..=-100).contains(&self.code())
    }

    /// The standard event status register bit the error class sets: CME
    /// (bit 5), EXE (bit 4), DDE (bit 3) or QYE (bit 2).
    pub(crate) fn esr_bit(self) -> u8 {
        match self.code() {
            -199..=-100 => 0x20,
            -299..=-200 => 0x10,
            -399..=-300 => 0x08,
            _ => 0x04,
        }
    }
}

impl fmt::Display for ScpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+},\"{}\"", self.code(), self.text())
    }
}

/// One node of a typed header: its mnemonic (upper case) and numeric suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    pub suffix: Option<u32>,
}

/// A parsed program header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Header {
    /// `*IDN?` and friends (name without the star, upper case).
    Common { name: String, query: bool },
    /// A command-tree header; `absolute` when it started with ':'.
    Path { absolute: bool, nodes: Vec<Node>, query: bool },
}

/// One program data element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// Decimal (or #H/#Q/#B) number with its suffix, if any, in upper case.
    Number { value: f64, suffix: Option<String> },
    /// Character data (upper case), e.g. `BUS`, `MAX`, `PIN1`.
    Word(String),
    /// A quoted string, quotes removed.
    Str(String),
    /// A channel list `(@1,2:3)`, expanded.
    Channels(Vec<u32>),
}

/// Splits a program message into its message units at the `;` that are not
/// inside a string or a channel list.
pub(crate) fn split_units(message: &str) -> Vec<&str> {
    let mut units = Vec::new();
    let mut quote: Option<char> = None;
    let mut depth = 0u32;
    let mut start = 0;
    for (i, c) in message.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ';') if depth == 0 => {
                units.push(&message[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    units.push(&message[start..]);
    units
}

/// SCPI-99 7.2: a program mnemonic has at most 12 characters.
const MNEMONIC_MAX: usize = 12;

/// Parses one message unit into its header and parameters. `Ok(None)` for an
/// empty unit (a trailing `;` or an empty line).
pub(crate) fn parse_unit(unit: &str) -> Result<Option<(Header, Vec<Token>)>, ScpiError> {
    let text = unit.trim_matches(|c: char| c.is_ascii_whitespace());
    if text.is_empty() {
        return Ok(None);
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let header = if bytes[0] == b'*' {
        i = 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i == start {
            return Err(ScpiError::Syntax);
        }
        let name = text[start..i].to_ascii_uppercase();
        let query = i < bytes.len() && bytes[i] == b'?';
        if query {
            i += 1;
        }
        Header::Common { name, query }
    } else {
        let absolute = bytes[0] == b':';
        if absolute {
            i = 1;
        }
        let mut nodes = Vec::new();
        loop {
            let start = i;
            if i >= bytes.len() || !bytes[i].is_ascii_alphabetic() {
                return Err(ScpiError::Syntax);
            }
            while i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                i += 1;
            }
            let name_end = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                // Letters after the suffix digits: not a mnemonic.
                return Err(ScpiError::Syntax);
            }
            if name_end - start > MNEMONIC_MAX {
                return Err(ScpiError::MnemonicTooLong);
            }
            let suffix = if i > name_end {
                Some(text[name_end..i].parse::<u32>().map_err(|_| ScpiError::HeaderSuffixOutOfRange)?)
            } else {
                None
            };
            nodes.push(Node { name: text[start..name_end].to_ascii_uppercase(), suffix });
            if i < bytes.len() && bytes[i] == b':' {
                i += 1;
                continue;
            }
            break;
        }
        let query = i < bytes.len() && bytes[i] == b'?';
        if query {
            i += 1;
        }
        Header::Path { absolute, nodes, query }
    };
    // The header ends at the message end or at the separating whitespace.
    if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
        return Err(ScpiError::Syntax);
    }
    let rest = text[i..].trim_matches(|c: char| c.is_ascii_whitespace());
    let tokens = if rest.is_empty() { Vec::new() } else { parse_parameters(rest)? };
    Ok(Some((header, tokens)))
}

fn parse_parameters(text: &str) -> Result<Vec<Token>, ScpiError> {
    let mut pieces = Vec::new();
    let mut quote: Option<char> = None;
    let mut depth = 0u32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter().map(|p| parse_token(p.trim_matches(|c: char| c.is_ascii_whitespace()))).collect()
}

fn parse_token(text: &str) -> Result<Token, ScpiError> {
    let Some(first) = text.chars().next() else {
        // `a,,b` or a trailing comma.
        return Err(ScpiError::MissingParameter);
    };
    match first {
        '(' => parse_channel_list(text),
        '"' | '\'' => parse_string(text, first),
        '#' => parse_non_decimal(text),
        c if c.is_ascii_digit() || c == '+' || c == '-' || c == '.' => parse_number(text),
        c if c.is_ascii_alphabetic() => {
            if text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Ok(Token::Word(text.to_ascii_uppercase()))
            } else {
                Err(ScpiError::Syntax)
            }
        }
        _ => Err(ScpiError::Syntax),
    }
}

fn parse_channel_list(text: &str) -> Result<Token, ScpiError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let inner = compact.strip_prefix("(@").and_then(|s| s.strip_suffix(')')).ok_or(ScpiError::Syntax)?;
    let mut channels = Vec::new();
    for item in inner.split(',') {
        let number = |s: &str| -> Result<u32, ScpiError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ScpiError::Syntax);
            }
            // Too many digits for a channel: out of range, not malformed.
            s.parse::<u32>().map_err(|_| ScpiError::DataOutOfRange)
        };
        match item.split_once(':') {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if from <= to {
                    channels.extend(from..=to);
                } else {
                    // SCPI allows descending ranges: (@3:1) is 3, 2, 1.
                    channels.extend((to..=from).rev());
                }
            }
            None => channels.push(number(item)?),
        }
    }
    Ok(Token::Channels(channels))
}

fn parse_string(text: &str, quote: char) -> Result<Token, ScpiError> {
    let mut out = String::new();
    let mut chars = text.chars().skip(1).peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            if chars.peek() == Some(&quote) {
                // A doubled quote stands for one quote character.
                out.push(quote);
                chars.next();
                continue;
            }
            return if chars.next().is_none() { Ok(Token::Str(out)) } else { Err(ScpiError::Syntax) };
        }
        out.push(c);
    }
    Err(ScpiError::Syntax)
}

fn parse_non_decimal(text: &str) -> Result<Token, ScpiError> {
    let mut chars = text.chars().skip(1);
    let radix = match chars.next().map(|c| c.to_ascii_uppercase()) {
        Some('H') => 16,
        Some('Q') => 8,
        Some('B') => 2,
        // Arbitrary block data: no command here takes it.
        _ => return Err(ScpiError::DataType),
    };
    let digits: String = chars.collect();
    let value = u64::from_str_radix(&digits, radix).map_err(|_| ScpiError::Syntax)?;
    Ok(Token::Number { value: value as f64, suffix: None })
}

fn parse_number(text: &str) -> Result<Token, ScpiError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        i += 1;
    }
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return Err(ScpiError::Syntax);
    }
    let mut number_end = i;
    // An exponent: E, optional white space and sign, digits. An E that is
    // not followed by digits belongs to a suffix (none here starts with E).
    let mut j = i;
    if j < bytes.len() && (bytes[j] == b'e' || bytes[j] == b'E') {
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        let digits_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j == digits_start {
            return Err(ScpiError::Syntax);
        }
        number_end = j;
    }
    let numeric: String = text[..number_end].chars().filter(|c| *c != ' ').collect();
    let value = numeric.parse::<f64>().map_err(|_| ScpiError::Syntax)?;
    let rest = text[number_end..].trim_start_matches(|c: char| c.is_ascii_whitespace());
    let suffix = if rest.is_empty() {
        None
    } else if rest.bytes().all(|b| b.is_ascii_alphabetic()) {
        Some(rest.to_ascii_uppercase())
    } else {
        return Err(ScpiError::Syntax);
    };
    Ok(Token::Number { value, suffix })
}

/// The short form of a long mnemonic: its upper-case letters (`SENSe` ->
/// `SENS`, `TINTerval` -> `TINT`).
pub(crate) fn short_form(long: &str) -> String {
    long.chars().filter(|c| !c.is_ascii_lowercase()).collect()
}

/// Whether a typed word (upper case) names `long`, in its short or long form.
pub(crate) fn names(typed: &str, long: &str) -> bool {
    typed == short_form(long) || typed.eq_ignore_ascii_case(long)
}

/// One node of a command pattern.
#[derive(Debug)]
struct PatternNode {
    long: String,
    short: String,
    optional: bool,
    /// Takes a numeric suffix (`PIN<n>`); 1 when the header omits it.
    suffix: bool,
}

/// A command-tree path in SCPI notation: `[SOURce:]DIGital:PIN#:FUNCtion`,
/// `FETCh[:SCALar]:CURRent[:DC]` (`#` = numeric suffix).
#[derive(Debug)]
pub(crate) struct Pattern {
    nodes: Vec<PatternNode>,
}

impl Pattern {
    pub(crate) fn new(spec: &str) -> Pattern {
        let mut nodes = Vec::new();
        let mut optional = false;
        let mut name = String::new();
        let mut flush = |name: &mut String, optional: bool| {
            if !name.is_empty() {
                let suffix = name.ends_with('#');
                let long = name.trim_end_matches('#').to_string();
                nodes.push(PatternNode { short: short_form(&long), long, optional, suffix });
                name.clear();
            }
        };
        for c in spec.chars() {
            match c {
                '[' => {
                    flush(&mut name, optional);
                    optional = true;
                }
                ']' => {
                    flush(&mut name, optional);
                    optional = false;
                }
                ':' => flush(&mut name, optional),
                c => name.push(c),
            }
        }
        flush(&mut name, optional);
        Pattern { nodes }
    }

    /// The numeric suffixes of the suffixed nodes if `typed` names this path.
    pub(crate) fn matches(&self, typed: &[Node]) -> Option<Vec<u32>> {
        let mut suffixes = Vec::new();
        self.match_from(0, typed, &mut suffixes).then_some(suffixes)
    }

    fn match_from(&self, p: usize, typed: &[Node], suffixes: &mut Vec<u32>) -> bool {
        let Some(node) = self.nodes.get(p) else {
            return typed.is_empty();
        };
        if let Some((first, rest)) = typed.split_first() {
            let name_ok = first.name == node.short || first.name.eq_ignore_ascii_case(&node.long);
            let suffix_ok = node.suffix || first.suffix.is_none();
            if name_ok && suffix_ok {
                let mark = suffixes.len();
                if node.suffix {
                    suffixes.push(first.suffix.unwrap_or(1));
                }
                if self.match_from(p + 1, rest, suffixes) {
                    return true;
                }
                suffixes.truncate(mark);
            }
        }
        if node.optional {
            let mark = suffixes.len();
            if node.suffix {
                suffixes.push(1);
            }
            if self.match_from(p + 1, typed, suffixes) {
                return true;
            }
            suffixes.truncate(mark);
        }
        false
    }
}

/// The simulated command tree: which path is which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    SystemError,
    SystemVersion,
    SystemChannelCount,
    SystemChannelModel,
    StatusOperationCondition,
    SourceVoltage,
    SourceCurrent,
    Output,
    SenseFunction,
    SenseFunctionCurrent,
    SenseFunctionVoltage,
    SensePoints,
    SenseInterval,
    SenseIntervalResolution,
    SenseOffset,
    SenseCurrentRange,
    SenseCurrentRangeAuto,
    ElogFunctionCurrent,
    ElogFunctionCurrentMinMax,
    ElogFunctionVoltage,
    ElogFunctionVoltageMinMax,
    ElogPeriod,
    TriggerAcquireSource,
    TriggerAcquire,
    TriggerElogSource,
    TriggerElog,
    InitiateAcquire,
    InitiateElog,
    AbortAcquire,
    AbortElog,
    FetchArrayCurrent,
    FetchArrayVoltage,
    MeasureArrayCurrent,
    MeasureArrayVoltage,
    FetchCurrent,
    FetchVoltage,
    MeasureCurrent,
    MeasureVoltage,
    FetchElog,
    FormatData,
    FormatBorder,
    DigitalPinFunction,
    DigitalPinPolarity,
    DigitalInputData,
    DigitalOutputData,
}

const TREE: &[(&str, Cmd)] = &[
    ("SYSTem:ERRor[:NEXT]", Cmd::SystemError),
    ("SYSTem:VERSion", Cmd::SystemVersion),
    ("SYSTem:CHANnel[:COUNt]", Cmd::SystemChannelCount),
    ("SYSTem:CHANnel:MODel", Cmd::SystemChannelModel),
    ("STATus:OPERation:CONDition", Cmd::StatusOperationCondition),
    ("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", Cmd::SourceVoltage),
    ("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]", Cmd::SourceCurrent),
    ("OUTPut[:STATe]", Cmd::Output),
    ("SENSe:FUNCtion", Cmd::SenseFunction),
    ("SENSe:FUNCtion:CURRent", Cmd::SenseFunctionCurrent),
    ("SENSe:FUNCtion:VOLTage", Cmd::SenseFunctionVoltage),
    ("SENSe:SWEep:POINts", Cmd::SensePoints),
    ("SENSe:SWEep:TINTerval", Cmd::SenseInterval),
    ("SENSe:SWEep:TINTerval:RESolution", Cmd::SenseIntervalResolution),
    ("SENSe:SWEep:OFFSet:POINts", Cmd::SenseOffset),
    ("SENSe:CURRent[:DC]:RANGe[:UPPer]", Cmd::SenseCurrentRange),
    ("SENSe:CURRent[:DC]:RANGe:AUTO", Cmd::SenseCurrentRangeAuto),
    ("SENSe:ELOG:FUNCtion:CURRent", Cmd::ElogFunctionCurrent),
    ("SENSe:ELOG:FUNCtion:CURRent:MINMax", Cmd::ElogFunctionCurrentMinMax),
    ("SENSe:ELOG:FUNCtion:VOLTage", Cmd::ElogFunctionVoltage),
    ("SENSe:ELOG:FUNCtion:VOLTage:MINMax", Cmd::ElogFunctionVoltageMinMax),
    ("SENSe:ELOG:PERiod", Cmd::ElogPeriod),
    ("TRIGger:ACQuire:SOURce", Cmd::TriggerAcquireSource),
    ("TRIGger:ACQuire[:IMMediate]", Cmd::TriggerAcquire),
    ("TRIGger:ELOG:SOURce", Cmd::TriggerElogSource),
    ("TRIGger:ELOG[:IMMediate]", Cmd::TriggerElog),
    ("INITiate[:IMMediate]:ACQuire", Cmd::InitiateAcquire),
    ("INITiate[:IMMediate]:ELOG", Cmd::InitiateElog),
    ("ABORt:ACQuire", Cmd::AbortAcquire),
    ("ABORt:ELOG", Cmd::AbortElog),
    ("FETCh:ARRay:CURRent[:DC]", Cmd::FetchArrayCurrent),
    ("FETCh:ARRay:VOLTage[:DC]", Cmd::FetchArrayVoltage),
    ("MEASure:ARRay:CURRent[:DC]", Cmd::MeasureArrayCurrent),
    ("MEASure:ARRay:VOLTage[:DC]", Cmd::MeasureArrayVoltage),
    ("FETCh[:SCALar]:CURRent[:DC]", Cmd::FetchCurrent),
    ("FETCh[:SCALar]:VOLTage[:DC]", Cmd::FetchVoltage),
    ("MEASure[:SCALar]:CURRent[:DC]", Cmd::MeasureCurrent),
    ("MEASure[:SCALar]:VOLTage[:DC]", Cmd::MeasureVoltage),
    ("FETCh:ELOG", Cmd::FetchElog),
    ("FORMat[:DATA]", Cmd::FormatData),
    ("FORMat:BORDer", Cmd::FormatBorder),
    ("[SOURce:]DIGital:PIN#:FUNCtion", Cmd::DigitalPinFunction),
    ("[SOURce:]DIGital:PIN#:POLarity", Cmd::DigitalPinPolarity),
    ("[SOURce:]DIGital:INPut:DATA", Cmd::DigitalInputData),
    ("[SOURce:]DIGital:OUTPut:DATA", Cmd::DigitalOutputData),
];

/// The command `nodes` name, with the suffixes of its suffixed nodes.
pub(crate) fn lookup(nodes: &[Node]) -> Option<(Cmd, Vec<u32>)> {
    static COMPILED: OnceLock<Vec<(Pattern, Cmd)>> = OnceLock::new();
    let tree = COMPILED.get_or_init(|| TREE.iter().map(|(spec, cmd)| (Pattern::new(spec), *cmd)).collect());
    tree.iter().find_map(|(pattern, cmd)| pattern.matches(nodes).map(|s| (*cmd, s)))
}

/// The unit a numeric parameter is in, for its suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Volts,
    Amperes,
}

impl Unit {
    fn symbol(self) -> &'static str {
        match self {
            Unit::Seconds => "S",
            Unit::Volts => "V",
            Unit::Amperes => "A",
        }
    }

    /// The multiplier a suffix stands for: the unit itself, or the unit with
    /// a k, m, u, n or p prefix (`MS` = millisecond, `MA` = milliampere,
    /// as the power-supply manuals write them).
    fn multiplier(self, suffix: &str) -> Option<f64> {
        let prefix = suffix.strip_suffix(self.symbol())?;
        match prefix {
            "" => Some(1.0),
            "K" => Some(1e3),
            "M" => Some(1e-3),
            "U" => Some(1e-6),
            "N" => Some(1e-9),
            "P" => Some(1e-12),
            _ => None,
        }
    }
}

/// A numeric parameter: a value or one of the MIN/MAX/DEF keywords.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Numeric {
    Value(f64),
    Min,
    Max,
    Default,
}

/// A cursor over a unit's parameters, typed on demand.
#[derive(Debug)]
pub(crate) struct Params {
    tokens: Vec<Token>,
    pos: usize,
}

impl Params {
    pub(crate) fn new(tokens: Vec<Token>) -> Params {
        Params { tokens, pos: 0 }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    /// A required numeric parameter in `unit` (or unitless), or MIN/MAX/DEF.
    pub(crate) fn numeric(&mut self, unit: Option<Unit>) -> Result<Numeric, ScpiError> {
        match self.peek() {
            None | Some(Token::Channels(_)) => Err(ScpiError::MissingParameter),
            Some(Token::Number { value, suffix }) => {
                let scaled = match (suffix, unit) {
                    (None, _) => *value,
                    (Some(_), None) => return Err(ScpiError::SuffixNotAllowed),
                    (Some(s), Some(unit)) => value * unit.multiplier(s).ok_or(ScpiError::InvalidSuffix)?,
                };
                self.pos += 1;
                Ok(Numeric::Value(scaled))
            }
            Some(Token::Word(w)) => {
                let limit = limit_keyword(w).ok_or(ScpiError::IllegalParameterValue)?;
                self.pos += 1;
                Ok(limit)
            }
            Some(Token::Str(_)) => Err(ScpiError::DataType),
        }
    }

    /// An optional MIN/MAX/DEF before a query's channel list.
    pub(crate) fn limit_opt(&mut self) -> Result<Option<Numeric>, ScpiError> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let limit = limit_keyword(w).ok_or(ScpiError::IllegalParameterValue)?;
                self.pos += 1;
                Ok(Some(limit))
            }
            Some(Token::Number { .. } | Token::Str(_)) => Err(ScpiError::DataType),
            None | Some(Token::Channels(_)) => Ok(None),
        }
    }

    /// A required boolean: ON/OFF or a number (non-zero after rounding = ON).
    pub(crate) fn boolean(&mut self) -> Result<bool, ScpiError> {
        let value = match self.peek() {
            None | Some(Token::Channels(_)) => return Err(ScpiError::MissingParameter),
            Some(Token::Number { suffix: Some(_), .. }) => return Err(ScpiError::SuffixNotAllowed),
            Some(Token::Number { value, suffix: None }) => value.round() != 0.0,
            Some(Token::Word(w)) if w == "ON" => true,
            Some(Token::Word(w)) if w == "OFF" => false,
            Some(Token::Word(_)) => return Err(ScpiError::IllegalParameterValue),
            Some(Token::Str(_)) => return Err(ScpiError::DataType),
        };
        self.pos += 1;
        Ok(value)
    }

    /// A required keyword: the typed word (upper case) for `choose` to map.
    pub(crate) fn keyword<T>(&mut self, choose: impl Fn(&str) -> Option<T>) -> Result<T, ScpiError> {
        match self.peek() {
            None | Some(Token::Channels(_)) => Err(ScpiError::MissingParameter),
            Some(Token::Word(w)) => {
                let value = choose(w).ok_or(ScpiError::IllegalParameterValue)?;
                self.pos += 1;
                Ok(value)
            }
            Some(Token::Number { .. } | Token::Str(_)) => Err(ScpiError::DataType),
        }
    }

    /// A required string, or character data in its place (instruments take
    /// `SENS:FUNC CURR` as well as `SENS:FUNC "CURR"`).
    pub(crate) fn string(&mut self) -> Result<String, ScpiError> {
        match self.peek() {
            None | Some(Token::Channels(_)) => Err(ScpiError::MissingParameter),
            Some(Token::Str(s) | Token::Word(s)) => {
                let s = s.to_ascii_uppercase();
                self.pos += 1;
                Ok(s)
            }
            Some(Token::Number { .. }) => Err(ScpiError::DataType),
        }
    }

    /// Whether another parameter follows.
    pub(crate) fn has_more(&self) -> bool {
        self.peek().is_some()
    }

    /// The optional trailing channel list, checked against `channels`
    /// installed; channel 1 when omitted.
    pub(crate) fn channels(&mut self, installed: usize) -> Result<Vec<usize>, ScpiError> {
        let list = match self.peek() {
            None => return Ok(vec![1]),
            Some(Token::Channels(list)) => list.clone(),
            Some(_) => return Err(ScpiError::DataType),
        };
        self.pos += 1;
        if self.pos < self.tokens.len() {
            return Err(ScpiError::ParameterNotAllowed);
        }
        if list.is_empty() {
            return Err(ScpiError::Syntax);
        }
        list.iter()
            .map(|&c| if c >= 1 && (c as usize) <= installed { Ok(c as usize) } else { Err(ScpiError::DataOutOfRange) })
            .collect()
    }

    /// No parameters may remain.
    pub(crate) fn finish(&self) -> Result<(), ScpiError> {
        if self.pos < self.tokens.len() { Err(ScpiError::ParameterNotAllowed) } else { Ok(()) }
    }
}

fn limit_keyword(word: &str) -> Option<Numeric> {
    if names(word, "MINimum") {
        Some(Numeric::Min)
    } else if names(word, "MAXimum") {
        Some(Numeric::Max)
    } else if names(word, "DEFault") {
        Some(Numeric::Default)
    } else {
        None
    }
}

/// NR3 as the instrument writes it: sign, 6 significant digits, a signed
/// two-digit exponent (`+1.23456E-03`). Not-a-number is SCPI's 9.91E37.
pub(crate) fn nr3(value: f64) -> String {
    if !value.is_finite() {
        return "+9.91000E+37".to_string();
    }
    let text = format!("{:.5E}", value.abs());
    let (mantissa, exponent) = text.split_once('E').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if value.is_sign_negative() && value != 0.0 { '-' } else { '+' };
    let exp_sign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}E{exp_sign}{:02}", exponent.abs())
}

/// NR1 with an explicit sign (`+1024`).
pub(crate) fn nr1(value: i64) -> String {
    format!("{value:+}")
}

/// An IEEE 488.2 definite-length arbitrary block: `#`, the number of digits
/// of the byte count, the byte count, the bytes.
pub(crate) fn definite_block(bytes: &[u8]) -> Vec<u8> {
    let count = bytes.len().to_string();
    let mut out = Vec::with_capacity(bytes.len() + count.len() + 2);
    out.push(b'#');
    out.extend_from_slice(count.len().to_string().as_bytes());
    out.extend_from_slice(count.as_bytes());
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(unit: &str) -> Header {
        parse_unit(unit).unwrap().unwrap().0
    }

    fn nodes(names: &[&str]) -> Vec<Node> {
        names.iter().map(|n| Node { name: n.to_string(), suffix: None }).collect()
    }

    #[test]
    fn headers_split_into_nodes_suffixes_and_query() {
        assert_eq!(
            header(":sour:dig:pin3:func?"),
            Header::Path {
                absolute: true,
                nodes: vec![
                    Node { name: "SOUR".into(), suffix: None },
                    Node { name: "DIG".into(), suffix: None },
                    Node { name: "PIN".into(), suffix: Some(3) },
                    Node { name: "FUNC".into(), suffix: None },
                ],
                query: true,
            }
        );
        assert_eq!(header("*idn?"), Header::Common { name: "IDN".into(), query: true });
        assert_eq!(parse_unit("SENS::SWE"), Err(ScpiError::Syntax));
        assert_eq!(parse_unit("SENS:SWE:POIN,5"), Err(ScpiError::Syntax));
        assert_eq!(parse_unit("SENS:SWEEPINGVERYLONG:POIN 5"), Err(ScpiError::MnemonicTooLong));
        assert_eq!(parse_unit("  "), Ok(None));
    }

    #[test]
    fn parameters_are_typed() {
        let (_, tokens) = parse_unit("X 1.5e-3 ms, MAX ,\"a;b\", (@1,3:4), #H1F, 10US").unwrap().unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Number { value: 1.5e-3, suffix: Some("MS".into()) },
                Token::Word("MAX".into()),
                Token::Str("a;b".into()),
                Token::Channels(vec![1, 3, 4]),
                Token::Number { value: 31.0, suffix: None },
                Token::Number { value: 10.0, suffix: Some("US".into()) },
            ]
        );
        assert_eq!(parse_unit("X (@1"), Err(ScpiError::Syntax));
        assert_eq!(parse_unit("X 1.2.3"), Err(ScpiError::Syntax));
        assert_eq!(parse_unit("X 1,,2"), Err(ScpiError::MissingParameter));
        assert_eq!(split_units("A 1;B \"x;y\";C (@1)"), vec!["A 1", "B \"x;y\"", "C (@1)"]);
    }

    #[test]
    fn patterns_take_long_short_and_optional_nodes() {
        let p = Pattern::new("[SOURce:]DIGital:PIN#:FUNCtion");
        let typed = |names: &[(&str, Option<u32>)]| -> Vec<Node> {
            names.iter().map(|(n, s)| Node { name: n.to_string(), suffix: *s }).collect()
        };
        assert_eq!(p.matches(&typed(&[("DIG", None), ("PIN", Some(2)), ("FUNC", None)])), Some(vec![2]));
        assert_eq!(
            p.matches(&typed(&[("SOURCE", None), ("DIGITAL", None), ("PIN", None), ("FUNCTION", None)])),
            Some(vec![1])
        );
        // Neither the long nor the short form: no match.
        assert_eq!(p.matches(&typed(&[("DIGI", None), ("PIN", Some(2)), ("FUNC", None)])), None);
        let fetch = Pattern::new("FETCh[:SCALar]:CURRent[:DC]");
        assert!(fetch.matches(&nodes(&["FETC", "CURR"])).is_some());
        assert!(fetch.matches(&nodes(&["FETCH", "SCAL", "CURRENT", "DC"])).is_some());
        assert!(fetch.matches(&nodes(&["FETC", "DC"])).is_none());
        assert_eq!(lookup(&nodes(&["SENS", "SWE", "POIN"])).map(|m| m.0), Some(Cmd::SensePoints));
        assert_eq!(lookup(&nodes(&["SENSE", "SWEEP", "OFFSET", "POINTS"])).map(|m| m.0), Some(Cmd::SenseOffset));
        assert_eq!(lookup(&nodes(&["FORM"])).map(|m| m.0), Some(Cmd::FormatData));
    }

    #[test]
    fn numbers_take_unit_suffixes() {
        let mut p = Params::new(vec![Token::Number { value: 20.0, suffix: Some("US".into()) }]);
        assert_eq!(p.numeric(Some(Unit::Seconds)), Ok(Numeric::Value(20.0 * 1e-6)));
        let mut p = Params::new(vec![Token::Number { value: 20.0, suffix: Some("V".into()) }]);
        assert_eq!(p.numeric(Some(Unit::Seconds)), Err(ScpiError::InvalidSuffix));
        let mut p = Params::new(vec![Token::Number { value: 20.0, suffix: Some("S".into()) }]);
        assert_eq!(p.numeric(None), Err(ScpiError::SuffixNotAllowed));
    }

    #[test]
    fn responses_use_the_instrument_formats() {
        assert_eq!(nr3(1.23456e-3), "+1.23456E-03");
        assert_eq!(nr3(-2.048e-5), "-2.04800E-05");
        assert_eq!(nr3(0.0), "+0.00000E+00");
        assert_eq!(nr3(1234.5), "+1.23450E+03");
        assert_eq!(nr1(1024), "+1024");
        // 4 bytes: "#14" then the bytes.
        assert_eq!(definite_block(&[1, 2, 3, 4]), b"#14\x01\x02\x03\x04");
        assert_eq!(definite_block(&[]), b"#10");
        assert_eq!(ScpiError::UndefinedHeader.to_string(), "-113,\"Undefined header\"");
    }
}

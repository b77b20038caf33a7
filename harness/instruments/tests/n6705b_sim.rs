//! The simulated N6705B driven with raw SCPI over TCP by a tiny client of
//! this file's own (not the driver), so the simulator is checked against the
//! documented protocol on its own.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tinybench_instruments::n6705b::sim::{N6705bSim, SimConfig, SimFault, serve_with};
use tinybench_power::Waveform;

/// Generous: the simulator answers at once unless a test expects silence.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long "no answer" is watched for.
const SILENCE: Duration = Duration::from_millis(300);
/// The digitizer's 20.48 us step; waveforms on it line up with the samples.
const DT: f64 = 20.48e-6;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A minimal SCPI-over-socket client: newline-terminated lines, definite
/// length blocks.
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(address: SocketAddr) -> Client {
        let writer = TcpStream::connect(address).unwrap();
        writer.set_read_timeout(Some(ANSWER_TIMEOUT)).unwrap();
        let reader = BufReader::new(writer.try_clone().unwrap());
        Client { writer, reader }
    }

    fn send(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).unwrap();
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "unterminated answer {line:?}");
        line.trim_end_matches('\n').to_string()
    }

    fn query(&mut self, line: &str) -> String {
        self.send(line);
        self.line()
    }

    /// Sends a query and reads a definite-length block and its newline.
    fn query_block(&mut self, line: &str) -> Vec<u8> {
        self.send(line);
        let mut head = [0u8; 2];
        self.reader.read_exact(&mut head).unwrap();
        assert_eq!(head[0], b'#', "not a block");
        let digits = (head[1] as char).to_digit(10).unwrap() as usize;
        let mut count = vec![0u8; digits];
        self.reader.read_exact(&mut count).unwrap();
        let count: usize = std::str::from_utf8(&count).unwrap().parse().unwrap();
        let mut data = vec![0u8; count];
        self.reader.read_exact(&mut data).unwrap();
        let mut end = [0u8; 1];
        self.reader.read_exact(&mut end).unwrap();
        assert_eq!(end, *b"\n");
        data
    }

    /// Everything in the error queue, oldest first.
    fn errors(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        loop {
            let e = self.query("SYST:ERR?");
            if e == "+0,\"No error\"" {
                return errors;
            }
            errors.push(e);
            assert!(errors.len() < 100, "the error queue does not empty");
        }
    }

    /// Nothing arrives for `SILENCE`.
    fn silent(&mut self) -> bool {
        self.writer.set_read_timeout(Some(SILENCE)).unwrap();
        let mut byte = [0u8; 1];
        let silent = match self.reader.read(&mut byte) {
            Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            Ok(_) => false,
        };
        self.writer.set_read_timeout(Some(ANSWER_TIMEOUT)).unwrap();
        silent
    }

    /// Reads until the simulator closes the connection.
    fn read_to_close(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).unwrap();
        rest
    }

    fn setup(&mut self, commands: &[&str]) {
        for c in commands {
            self.send(c);
        }
        assert_eq!(self.query("*OPC?"), "1");
        assert_eq!(self.errors(), Vec::<String>::new(), "setup {commands:?}");
    }
}

fn singles_be(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks(4).map(|c| f32::from_be_bytes(c.try_into().unwrap())).collect()
}

fn numbers(text: &str) -> Vec<f64> {
    text.split(',').map(|v| v.parse().unwrap()).collect()
}

/// 100 idle samples at 1/256 A (3.5 V, marker low), 8 high samples at
/// k/128 A (3.25 V), 20 idle samples. Binary fractions are exact in f32.
fn pulse() -> Waveform {
    let mut current_a = vec![1.0 / 256.0; 100];
    let mut voltage_v = vec![3.5; 100];
    let mut marker = vec![false; 100];
    for k in 1..=8 {
        current_a.push(k as f64 / 128.0);
        voltage_v.push(3.25);
        marker.push(true);
    }
    current_a.extend([1.0 / 256.0; 20]);
    voltage_v.extend([3.5; 20]);
    marker.extend([false; 20]);
    Waveform { interval_s: DT, current_a, voltage_v, marker }
}

const ARM_EXTERNAL: &[&str] = &[
    "*RST",
    "DIG:PIN1:FUNC TINP",
    "DIG:PIN1:POL POS",
    "SENS:FUNC:CURR ON,(@1)",
    "SENS:FUNC:VOLT ON,(@1)",
    "SENS:SWE:TINT 20.48E-6,(@1)",
    "SENS:SWE:POIN 8,(@1)",
    "TRIG:ACQ:SOUR EXT,(@1)",
    "FORM REAL",
    "FORM:BORD NORM",
];

#[test]
fn identity_and_an_empty_error_queue() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    let idn = c.query("*IDN?");
    assert_eq!(idn, sim.identity());
    let fields: Vec<&str> = idn.split(',').collect();
    assert_eq!(fields.len(), 4);
    assert_eq!(&fields[..2], ["Keysight Technologies", "N6705B"]);
    assert_eq!(c.query("SYST:ERR?"), "+0,\"No error\"");
    assert_eq!(c.query("SYST:CHAN:MOD? (@1)"), "N6781A");
    // Several queries on one line: one answer, ';'-separated.
    assert_eq!(c.query("*OPC?;SYST:CHAN?"), "1;+1");
}

#[test]
fn long_and_short_forms_case_optional_nodes_and_channel_lists() {
    let config = SimConfig { channels: 2, ..SimConfig::default() };
    let sim = N6705bSim::start_with(loopback(), config).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(&["SENSe:SWEep:POINts 2000,(@1)", "sens:swe:offs:poin -5,(@1)"]);
    assert_eq!(c.query("SENS:SWE:POIN? (@1)"), "+2000");
    assert_eq!(c.query(":sense:sweep:points? (@1)"), "+2000");
    assert_eq!(c.query("SeNsE:sWeEp:OfFsEt:PoInTs? (@1)"), "-5");
    // Optional nodes, present or not.
    c.setup(&["SOURce:DIGital:PIN2:FUNCtion TINPut", "DIG:PIN3:FUNC TINP", "FORMat:DATA REAL"]);
    assert_eq!(c.query("DIG:PIN2:FUNC?"), "TINP");
    assert_eq!(c.query("SOUR:DIG:PIN3:FUNCTION?"), "TINP");
    assert_eq!(c.query("FORM?"), "REAL");
    assert_eq!(c.query("FORMAT:DATA?"), "REAL");
    // A unit without ':' continues the previous unit's path.
    c.setup(&["SENS:SWE:POIN 10,(@1);TINT 1E-3,(@1)"]);
    assert_eq!(c.query("SENS:SWE:POIN? (@1);TINT? (@1)"), "+10;+1.00352E-03");
    // Channel lists: a list, a range, a descending range; channel 1 when omitted.
    c.setup(&["SENS:SWE:POIN 300,(@1:2)"]);
    assert_eq!(c.query("SENS:SWE:POIN? (@1,2)"), "+300,+300");
    c.setup(&["SENS:SWE:POIN 7,(@2)"]);
    assert_eq!(c.query("SENS:SWE:POIN? (@2:1)"), "+7,+300");
    assert_eq!(c.query("SENS:SWE:POIN?"), "+300");
    // MIN/MAX/DEF and unit suffixes.
    assert_eq!(c.query("SENS:SWE:POIN? MAX,(@1)"), "+524288");
    assert_eq!(c.query("SENS:SWE:POIN? MIN,(@1)"), "+1");
    c.setup(&["SENS:SWE:POIN MAX,(@1)", "SENS:SWE:TINT 40.96 us,(@1)", "VOLT 3300MV,(@1)"]);
    assert_eq!(c.query("SENS:SWE:POIN? (@1)"), "+524288");
    assert_eq!(c.query("SENS:SWE:TINT? (@1)"), "+4.09600E-05");
    assert_eq!(c.query("VOLT? (@1)"), "+3.30000E+00");
    c.setup(&["SENS:SWE:POIN DEF,(@1)", "SENS:SWE:POIN 1.5e2,(@2)"]);
    assert_eq!(c.query("SENS:SWE:POIN? (@1:2)"), "+1024,+150");
}

#[test]
fn bad_commands_fill_the_error_queue_with_standard_entries() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    let bad = [
        ("FOO:BAR 1", "-113,\"Undefined header\""),
        ("SENS:SWE:POIN", "-109,\"Missing parameter\""),
        ("SENS:SWE:POIN 10,(@1),5", "-108,\"Parameter not allowed\""),
        ("SENS:SWE:POIN \"ten\",(@1)", "-104,\"Data type error\""),
        ("SENS:SWE:POIN 0,(@1)", "-222,\"Data out of range\""),
        ("SENS:SWE:POIN 10,(@5)", "-222,\"Data out of range\""),
        ("TRIG:ACQ:SOUR NOWHERE,(@1)", "-224,\"Illegal parameter value\""),
        ("SENS::SWE:POIN 10", "-102,\"Syntax error\""),
        ("SENS:SWE:TINT 1V,(@1)", "-131,\"Invalid suffix\""),
        ("SENS:SWE:POIN 10S,(@1)", "-138,\"Suffix not allowed\""),
        ("DIG:PIN9:FUNC TINP", "-114,\"Header suffix out of range\""),
        ("DIG:PIN1:FUNC INH", "-221,\"Settings conflict\""),
        ("*IDN", "-113,\"Undefined header\""),
        ("INIT:ACQ? (@1)", "-113,\"Undefined header\""),
        // The short form plus letters is neither form.
        ("SENS:SWEE:POIN 10", "-113,\"Undefined header\""),
    ];
    for (command, _) in bad {
        c.send(command);
    }
    let expected: Vec<String> = bad.iter().map(|(_, e)| e.to_string()).collect();
    assert_eq!(c.errors(), expected);
    // Command errors set CME (32) in *ESR?, execution errors EXE (16).
    assert_eq!(c.query("*ESR?"), "+48");
    assert_eq!(c.query("*ESR?"), "+0");
    // A failed query sends nothing; the line's other queries still answer.
    assert_eq!(c.query("SENS:SWE:POIN? (@7);*OPC?"), "1");
    // A command error drops the rest of its line.
    c.send("BOGUS;SENS:SWE:POIN 77,(@1)");
    assert_eq!(c.query("SENS:SWE:POIN? (@1)"), "+1024");
    assert_eq!(c.errors(), ["-222,\"Data out of range\"", "-113,\"Undefined header\""]);
    // Overflow: the 20th entry becomes -350 and later errors are lost.
    for _ in 0..25 {
        c.send("NOPE");
    }
    let errors = c.errors();
    assert_eq!(errors.len(), 20);
    assert!(errors[..19].iter().all(|e| e == "-113,\"Undefined header\""));
    assert_eq!(errors[19], "-350,\"Queue overflow\"");
    // *CLS empties it.
    c.send("NOPE");
    c.send("*CLS");
    assert_eq!(c.errors(), Vec::<String>::new());
}

#[test]
fn sample_interval_is_rounded_as_the_users_guide_says() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    let tint = |c: &mut Client, seconds: &str| {
        c.setup(&[&format!("SENS:SWE:TINT {seconds},(@1)")]);
        c.query("SENS:SWE:TINT? (@1)")
    };
    // One parameter on the N6781A SMU: 5.12 us steps.
    c.setup(&["SENS:FUNC:CURR ON,(@1)", "SENS:FUNC:VOLT OFF,(@1)"]);
    assert_eq!(tint(&mut c, "5.12E-6"), "+5.12000E-06");
    assert_eq!(tint(&mut c, "7E-6"), "+5.12000E-06");
    assert_eq!(tint(&mut c, "8E-6"), "+1.02400E-05");
    assert_eq!(c.query("SENS:SWE:TINT? MIN,(@1)"), "+5.12000E-06");
    // Two parameters: 10.24 us at least, 10.24 us steps up to 20.48 us.
    c.setup(&["SENS:FUNC:VOLT ON,(@1)"]);
    assert_eq!(tint(&mut c, "5.12E-6"), "+1.02400E-05");
    assert_eq!(tint(&mut c, "15E-6"), "+1.02400E-05");
    assert_eq!(tint(&mut c, "16E-6"), "+2.04800E-05");
    // Above: 20.48 us steps (RES20), 40.96 us steps above 40.96 us with RES40.
    assert_eq!(tint(&mut c, "100E-6"), "+1.02400E-04");
    c.setup(&["SENS:SWE:TINT:RES RES40"]);
    assert_eq!(c.query("SENS:SWE:TINT? (@1)"), "+8.19200E-05");
    assert_eq!(c.query("SENS:SWE:TINT:RES?"), "RES40");
    assert_eq!(tint(&mut c, "30E-6"), "+2.04800E-05");
    // Out of range is refused, the setting stays.
    c.send("SENS:SWE:TINT 1E-6,(@1)");
    assert_eq!(c.errors(), ["-222,\"Data out of range\""]);
    assert_eq!(c.query("SENS:SWE:TINT? (@1)"), "+2.04800E-05");
}

#[test]
fn external_trigger_captures_the_marked_pulse_as_a_real_block() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(ARM_EXTERNAL);
    c.setup(&["INIT:ACQ (@1)"]);
    assert_eq!(c.query("STAT:OPER:COND? (@1)"), "+12", "OFF and waiting for the trigger");
    sim.play(&pulse());
    c.send("FETC:ARR:CURR? (@1)");
    // 8 singles = 32 bytes: "#232", big-endian (FORM:BORD NORM).
    let mut head = [0u8; 4];
    c.reader.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"#232");
    let mut data = [0u8; 33];
    c.reader.read_exact(&mut data).unwrap();
    assert_eq!(data[32], b'\n');
    let expected: Vec<u8> = (1..=8).flat_map(|k| (k as f32 / 128.0).to_be_bytes()).collect();
    assert_eq!(&data[..32], &expected[..]);
    assert_eq!(singles_be(&data[..32]), (1..=8).map(|k| k as f32 / 128.0).collect::<Vec<_>>());
    // The voltage of the same samples.
    assert_eq!(singles_be(&c.query_block("FETC:ARR:VOLT? (@1)")), vec![3.25f32; 8]);
    // The average of the buffer: 4.5/128 A.
    let average = numbers(&c.query("FETC:CURR? (@1)"));
    assert!((average[0] - 4.5 / 128.0).abs() < 1e-6, "{average:?}");
    // SWAP: the same values least significant byte first.
    c.setup(&["FORM:BORD SWAP"]);
    let swapped = c.query_block("FETC:ARR:CURR? (@1)");
    let values: Vec<f32> = swapped.chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    assert_eq!(values, (1..=8).map(|k| k as f32 / 128.0).collect::<Vec<_>>());
    assert_eq!(c.errors(), Vec::<String>::new());
}

#[test]
fn a_negative_offset_takes_pre_trigger_samples() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(ARM_EXTERNAL);
    c.setup(&["SENS:SWE:OFFS:POIN -4,(@1)", "INIT:ACQ (@1)"]);
    sim.play(&pulse());
    let values = singles_be(&c.query_block("FETC:ARR:CURR? (@1)"));
    let idle = 1.0f32 / 256.0;
    assert_eq!(values, [idle, idle, idle, idle, 1.0 / 128.0, 2.0 / 128.0, 3.0 / 128.0, 4.0 / 128.0]);
    // A positive offset delays the record: the pulse's last 2 samples, then
    // idle. (A fresh simulator: the first pulse is not over yet.)
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(ARM_EXTERNAL);
    c.setup(&["SENS:SWE:OFFS:POIN 6,(@1)", "INIT:ACQ (@1)"]);
    sim.play(&pulse());
    let values = singles_be(&c.query_block("FETC:ARR:CURR? (@1)"));
    assert_eq!(values, [7.0 / 128.0, 8.0 / 128.0, idle, idle, idle, idle, idle, idle]);
}

#[test]
fn points_past_the_waveform_read_zero_amperes() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(ARM_EXTERNAL);
    // 8 high samples and 20 idle ones follow the edge; ask for 40.
    c.setup(&["SENS:SWE:POIN 40,(@1)", "INIT:ACQ (@1)"]);
    sim.play(&pulse());
    let current = singles_be(&c.query_block("FETC:ARR:CURR? (@1)"));
    assert_eq!(&current[28..], &[0.0f32; 12]);
    assert_eq!(current[27], 1.0 / 256.0);
    // Voltage stays at the last value.
    let voltage = singles_be(&c.query_block("FETC:ARR:VOLT? (@1)"));
    assert_eq!(&voltage[28..], &[3.5f32; 12]);
}

#[test]
fn ascii_answers_are_comma_separated_nr3() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(ARM_EXTERNAL);
    c.setup(&["FORM ASCII", "SENS:SWE:POIN 3,(@1)", "SENS:SWE:OFFS:POIN -1,(@1)", "INIT:ACQ (@1)"]);
    sim.play(&pulse());
    assert_eq!(c.query("FETC:ARR:CURR? (@1)"), "+3.90625E-03,+7.81250E-03,+1.56250E-02");
    assert_eq!(c.query("FETC:ARR:VOLT? (@1)"), "+3.50000E+00,+3.25000E+00,+3.25000E+00");
    assert_eq!(c.query("FORM?"), "ASC");
}

#[test]
fn fetching_an_undigitized_function_or_stale_data_is_refused() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    // Nothing acquired yet.
    assert_eq!(c.query("FETC:ARR:CURR? (@1);*OPC?"), "1");
    assert_eq!(c.errors(), ["-230,\"Data corrupt or stale\""]);
    // Voltage only (the *RST function), then asking for current.
    c.setup(&["*RST", "SENS:SWE:POIN 4,(@1)", "TRIG:ACQ:SOUR BUS,(@1)", "INIT:ACQ (@1)", "*TRG"]);
    assert_eq!(c.query("FETC:ARR:CURR? (@1);*OPC?"), "1");
    assert_eq!(c.errors(), ["-221,\"Settings conflict\""]);
    assert_eq!(c.query("FETC:ARR:VOLT? (@1)"), "+0.00000E+00,+0.00000E+00,+0.00000E+00,+0.00000E+00");
}

#[test]
fn bus_trigger_and_measure_take_what_is_playing_now() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    // A long steady draw: 1/64 A for 1000 s.
    let steady = Waveform {
        interval_s: 1.0,
        current_a: vec![1.0 / 64.0; 1000],
        voltage_v: vec![1.75; 1000],
        marker: vec![false; 1000],
    };
    sim.play(&steady);
    c.setup(&["SENS:FUNC:CURR ON,(@1)", "SENS:SWE:POIN 16,(@1)", "TRIG:ACQ:SOUR BUS,(@1)", "INIT:ACQ (@1)", "*TRG"]);
    assert_eq!(numbers(&c.query("FETC:ARR:CURR? (@1)")), vec![1.0 / 64.0; 16]);
    assert_eq!(c.query("MEAS:CURR? (@1)"), "+1.56250E-02");
    assert_eq!(c.query("MEAS:VOLT? (@1)"), "+1.75000E+00");
    assert_eq!(numbers(&c.query("MEAS:ARR:VOLT? (@1)")), vec![1.75; 16]);
    // TRIG:ACQ triggers whatever the source.
    c.setup(&["TRIG:ACQ:SOUR EXT,(@1)", "INIT:ACQ (@1)", "TRIG:ACQ (@1)"]);
    assert_eq!(numbers(&c.query("FETC:ARR:CURR? (@1)")), vec![1.0 / 64.0; 16]);
}

#[test]
fn a_trigger_before_the_pre_trigger_samples_are_in_is_ignored() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    // 100 pre-trigger samples of 40 ms: 4 s before a trigger counts.
    c.setup(&[
        "SENS:SWE:TINT 0.04,(@1)",
        "SENS:SWE:POIN 200,(@1)",
        "SENS:SWE:OFFS:POIN -100,(@1)",
        "TRIG:ACQ:SOUR BUS,(@1)",
    ]);
    assert_eq!(c.query("INIT:ACQ (@1);*TRG;:TRIG:ACQ (@1);:STAT:OPER:COND? (@1)"), "+12");
    c.setup(&["ABOR:ACQ (@1)"]);
    assert_eq!(c.query("STAT:OPER:COND? (@1)"), "+4");
}

#[test]
fn no_trigger_without_a_rising_marker_or_a_trigger_input() {
    let sim = N6705bSim::start_with(loopback(), SimConfig { marker_pin: Some(3), ..SimConfig::default() }).unwrap();
    let mut c = Client::connect(sim.address());
    let mut flat = pulse();
    flat.marker.iter_mut().for_each(|m| *m = false);
    // Pin 3 is a trigger input but the marker never rises.
    c.setup(ARM_EXTERNAL);
    c.setup(&["DIG:PIN3:FUNC TINP", "INIT:ACQ (@1)"]);
    sim.play(&flat);
    c.send("FETC:ARR:CURR? (@1)");
    assert!(c.silent(), "answered without a trigger");
    // Another connection sees it waiting for its trigger.
    let mut other = Client::connect(sim.address());
    assert_eq!(other.query("STAT:OPER:COND? (@1)"), "+12");
    // Anything sent meanwhile interrupts the waiting query (-410).
    c.send("ABOR:ACQ (@1)");
    assert_eq!(c.errors(), ["-410,\"Query INTERRUPTED\""]);
    assert_eq!(c.query("STAT:OPER:COND? (@1)"), "+4");

    // The marker rises, but on pin 3, and only pin 1 is a trigger input.
    c.setup(&["DIG:PIN3:FUNC DIO", "INIT:ACQ (@1)"]);
    sim.play(&pulse());
    c.send("FETC:ARR:CURR? (@1)");
    assert!(c.silent(), "pin 1 does not carry the marker");
    // Making pin 3 a trigger input finds the edge that was played.
    other.setup(&["DIG:PIN3:FUNC TINP"]);
    let values = singles_be(&c.read_block_after_query());
    assert_eq!(values, (1..=8).map(|k| k as f32 / 128.0).collect::<Vec<_>>());
}

impl Client {
    /// Reads the block of a query sent earlier.
    fn read_block_after_query(&mut self) -> Vec<u8> {
        let mut head = [0u8; 2];
        self.reader.read_exact(&mut head).unwrap();
        let digits = (head[1] as char).to_digit(10).unwrap() as usize;
        let mut count = vec![0u8; digits];
        self.reader.read_exact(&mut count).unwrap();
        let count: usize = std::str::from_utf8(&count).unwrap().parse().unwrap();
        let mut data = vec![0u8; count + 1];
        self.reader.read_exact(&mut data).unwrap();
        assert_eq!(data.pop(), Some(b'\n'));
        data
    }
}

#[test]
fn negative_polarity_triggers_on_the_falling_edge() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(ARM_EXTERNAL);
    c.setup(&["DIG:PIN1:POL NEG", "SENS:SWE:POIN 2,(@1)", "INIT:ACQ (@1)"]);
    assert_eq!(c.query("DIG:PIN1:POL?"), "NEG");
    sim.play(&pulse());
    // The marker falls after the 8th high sample.
    let idle = 1.0f32 / 256.0;
    assert_eq!(singles_be(&c.query_block("FETC:ARR:CURR? (@1)")), [idle, idle]);
}

/// 10 samples at 0 A (marker low), then three 50-sample records of
/// (r+1)/256 A with a 4x spike at sample 7 and 0 A at sample 20 (marker
/// high), then 10 samples at 0 A; 3.25 V throughout.
fn elog_waveform() -> Waveform {
    let mut current_a = vec![0.0; 10];
    let mut marker = vec![false; 10];
    for r in 0..3 {
        for j in 0..50 {
            let base = (r + 1) as f64 / 256.0;
            current_a.push(match j {
                7 => 4.0 * base,
                20 => 0.0,
                _ => base,
            });
            marker.push(true);
        }
    }
    current_a.extend([0.0; 10]);
    marker.extend([false; 10]);
    let n = current_a.len();
    Waveform { interval_s: DT, current_a, voltage_v: vec![3.25; n], marker }
}

#[test]
fn elog_records_hold_the_enabled_items_in_order() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    c.setup(&[
        "SENS:ELOG:FUNC:CURR ON,(@1)",
        "SENS:ELOG:FUNC:CURR:MINM ON,(@1)",
        "SENS:ELOG:FUNC:VOLT ON,(@1)",
        "SENS:ELOG:FUNC:VOLT:MINM OFF,(@1)",
        "SENS:ELOG:PER 1.024E-3,(@1)",
        "TRIG:ELOG:SOUR EXT,(@1)",
        "DIG:PIN2:FUNC TINP",
        "INIT:ELOG (@1)",
    ]);
    assert_eq!(c.query("SENS:ELOG:PER? (@1)"), "+1.02400E-03");
    assert_eq!(c.query("STAT:OPER:COND? (@1)"), "+12");
    sim.play(&elog_waveform());
    let expected = |r: usize| {
        let base = (r + 1) as f64 / 256.0;
        // I avg, I min, I max, V avg.
        [base * 52.0 / 50.0, 0.0, 4.0 * base, 3.25]
    };
    let close = |got: &[f64], want: &[f64]| {
        got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-5 * w.abs().max(1e-3))
    };
    let two = numbers(&c.query("FETC:ELOG? 2,(@1)"));
    let want: Vec<f64> = expected(0).into_iter().chain(expected(1)).collect();
    assert!(close(&two, &want), "{two:?} != {want:?}");
    assert_eq!(c.query("STAT:OPER:COND? (@1)"), "+20", "OFF and logging");
    // The next record, as a REAL block of singles.
    c.setup(&["FORM REAL"]);
    let third: Vec<f64> = singles_be(&c.query_block("FETC:ELOG? 1,(@1)")).into_iter().map(f64::from).collect();
    assert!(close(&third, &expected(2)), "{third:?}");
    // After ABOR:ELOG there is nothing to fetch.
    c.setup(&["ABOR:ELOG (@1)"]);
    assert_eq!(c.query("FETC:ELOG? 1,(@1);*OPC?"), "1");
    assert_eq!(c.errors(), ["-230,\"Data corrupt or stale\""]);
}

#[test]
fn elog_bus_trigger_and_period_limits() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let mut c = Client::connect(sim.address());
    // 10 s of a steady draw (the Elog logs all of it at once).
    let steady = Waveform {
        interval_s: 0.01,
        current_a: vec![1.0 / 32.0; 1000],
        voltage_v: vec![5.0; 1000],
        marker: vec![false; 1000],
    };
    sim.play(&steady);
    // I avg + V avg: 2 parameters need 204.8 us at least.
    c.setup(&["SENS:ELOG:PER 102.4E-6,(@1)"]);
    c.send("INIT:ELOG (@1)");
    assert_eq!(c.errors(), ["-221,\"Settings conflict\""]);
    c.setup(&["SENS:ELOG:PER 204.8E-6,(@1)", "TRIG:ELOG:SOUR BUS,(@1)", "INIT:ELOG (@1)", "*TRG"]);
    let records = numbers(&c.query("FETC:ELOG? 3,(@1)"));
    assert_eq!(records, [1.0 / 32.0, 5.0, 1.0 / 32.0, 5.0, 1.0 / 32.0, 5.0]);
    // The digitizer is busy with the Elog.
    c.send("INIT:ACQ (@1)");
    assert_eq!(c.errors(), ["-221,\"Settings conflict\""]);
}

#[test]
fn injected_faults_break_the_next_data_answer() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let steady = Waveform {
        interval_s: 1.0,
        current_a: vec![1.0 / 128.0; 1000],
        voltage_v: vec![3.0; 1000],
        marker: vec![false; 1000],
    };
    sim.play(&steady);
    let setup = ["SENS:FUNC:CURR ON,(@1)", "SENS:SWE:POIN 4,(@1)", "FORM REAL"];
    let one = (1.0f32 / 128.0).to_be_bytes();

    // Short: the header says 16 bytes, 8 come, then the newline.
    let mut c = Client::connect(sim.address());
    c.setup(&setup);
    sim.inject(SimFault::ShortBlock);
    c.send("MEAS:ARR:CURR? (@1)");
    let mut line = Vec::new();
    c.reader.read_until(b'\n', &mut line).unwrap();
    assert_eq!(&line[..4], b"#216");
    assert_eq!(&line[4..], [one, one].concat().into_iter().chain([b'\n']).collect::<Vec<_>>());
    // Only the next answer: this one is whole.
    assert_eq!(c.query_block("FETC:ARR:CURR? (@1)"), [one; 4].concat());

    // Malformed: the digit count is not a digit.
    sim.inject(SimFault::MalformedBlock);
    c.send("FETC:ARR:CURR? (@1)");
    let mut head = [0u8; 2];
    c.reader.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"#X");
    let mut rest = Vec::new();
    c.reader.read_until(b'\n', &mut rest).unwrap();

    // No answer at all; the connection stays usable.
    sim.inject(SimFault::NoAnswer);
    c.send("FETC:ARR:CURR? (@1)");
    assert!(c.silent());
    assert_eq!(c.query("*OPC?"), "1");

    // Refused command.
    sim.inject(SimFault::RejectNextCommand);
    c.send("SENS:SWE:POIN 9,(@1)");
    assert_eq!(c.errors(), ["-221,\"Settings conflict\""]);
    assert_eq!(c.query("SENS:SWE:POIN? (@1)"), "+4");

    // Disconnect mid-answer: part of the block, then the end of the stream.
    sim.inject(SimFault::DisconnectMidAnswer);
    c.send("FETC:ARR:CURR? (@1)");
    let partial = c.read_to_close();
    assert!(partial.starts_with(b"#216") && partial.len() < 4 + 16 + 1, "{partial:?}");

    // A new connection after one closed; then a disconnect without a byte.
    let mut c = Client::connect(sim.address());
    sim.inject(SimFault::Disconnect);
    c.send("FETC:ARR:CURR? (@1)");
    assert_eq!(c.read_to_close(), Vec::<u8>::new());
    let mut c = Client::connect(sim.address());
    assert_eq!(c.query_block("FETC:ARR:CURR? (@1)"), [one; 4].concat());
}

#[test]
fn standalone_serving_replays_the_waveform_at_each_arm() {
    let (tx, rx) = std::sync::mpsc::channel();
    let config = SimConfig { replay: Some(pulse()), ..SimConfig::default() };
    // Serves until the test process ends.
    std::thread::spawn(move || serve_with(loopback(), config, |address| tx.send(address).unwrap()));
    let address = rx.recv_timeout(ANSWER_TIMEOUT).unwrap();
    let mut c = Client::connect(address);
    c.setup(ARM_EXTERNAL);
    for _ in 0..2 {
        c.setup(&["INIT:ACQ (@1)"]);
        let values = singles_be(&c.query_block("FETC:ARR:CURR? (@1)"));
        assert_eq!(values, (1..=8).map(|k| k as f32 / 128.0).collect::<Vec<_>>());
    }
}

#[test]
fn a_busy_port_is_reported_with_what_to_do() {
    let sim = N6705bSim::start(loopback()).unwrap();
    let err = N6705bSim::start(sim.address()).unwrap_err();
    assert!(err.to_string().contains("port 0"), "{err}");
    let err = N6705bSim::start_with(loopback(), SimConfig { channels: 5, ..SimConfig::default() }).unwrap_err();
    assert!(err.to_string().contains("1 to 4"), "{err}");
}

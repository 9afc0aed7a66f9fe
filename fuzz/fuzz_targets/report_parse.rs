//! One report's text through the agent-report/v1 parser and validator.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| posture::fuzzing::report_parse(data));

//! Runs the file examples (`file_copy`, `aiofiles_append`) as child processes on the test
//! clock and checks what they print: the copy is byte-identical with the expected line count,
//! and the crawler's concurrent appends through one writer leave no torn, missing or
//! duplicated line. Both clean up their temporary files.

mod support;

use support::{assert_output, run_example};

const FILE_COPY: &str = "\
wrote input: 20000 lines, 1040969 bytes
copied 1040969 bytes with File::read / File::write_all
copy: 20000 lines, 1040969 bytes, longest line 97 bytes, 1177 empty-word lines
copy identical to input: yes
fs::copy: 1040969 bytes, identical: yes
removed 3 temporary files
";

const AIOFILES_APPEND: &str = "\
100 pages crawled by 100 tasks, 5178 links found
writer: 5178 lines appended with 5178 write_all calls, 315858 bytes, closed
read back 5178 lines: 0 torn, 0 missing, 0 duplicated
lines per page: min 12, max 92, pages in file 100
interleaved: yes (the pages' lines are mixed in the file)
removed the results file
";

#[test]
fn file_copy_copies_and_counts_lines() {
    let _watchdog = support::watchdog("file_copy example");
    assert_output("file_copy", &run_example("file_copy", &[]), FILE_COPY);
}

#[test]
fn aiofiles_append_tears_no_line() {
    let _watchdog = support::watchdog("aiofiles_append example");
    assert_output(
        "aiofiles_append",
        &run_example("aiofiles_append", &[]),
        AIOFILES_APPEND,
    );
}

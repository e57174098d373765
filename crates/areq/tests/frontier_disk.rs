//! The on-disk frontier (`--state DIR`): the in-memory frontier's behaviour on the test clock,
//! state kept across a reopen (leased jobs back in the queue), the `areq` binary killed with
//! SIGKILL or stopped with SIGINT mid-crawl of the demo site and run again to the exact full
//! crawl, and bad state directories reported by path.

mod frontier_cases;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use areq::demo::{DemoConfig, DemoSite, serve};
use areq::frontier::{Completion, DiskFrontier, Frontier, FrontierConfig, STATE_FILE};
use frontier_cases::{jobs, urls};
use support::{TempDir, line_set, read_tsv, recursive_crawl, run_until, wait_exit};
use tulip::time::Instant;

fn disk(dir: &TempDir) -> impl AsyncFn(FrontierConfig) -> DiskFrontier + '_ {
    async move |config| DiskFrontier::open(&dir.path("state"), config).unwrap()
}

#[tulip::test(test_clock)]
async fn duplicates_are_dropped_across_batches_and_mark_seen() {
    let dir = TempDir::new("disk-dedup");
    frontier_cases::duplicates_are_dropped_across_batches_and_mark_seen(disk(&dir)).await;
}

#[tulip::test(test_clock)]
async fn per_host_limit_and_round_robin() {
    let dir = TempDir::new("disk-perhost");
    frontier_cases::per_host_limit_and_round_robin(disk(&dir)).await;
}

#[tulip::test(test_clock)]
async fn politeness_delay_per_host() {
    let dir = TempDir::new("disk-delay");
    frontier_cases::politeness_delay_per_host(disk(&dir)).await;
}

#[tulip::test(test_clock)]
async fn a_reported_delay_gates_then_spaces_its_host() {
    let dir = TempDir::new("disk-learn");
    frontier_cases::a_reported_delay_gates_then_spaces_its_host(disk(&dir)).await;
}

#[tulip::test(test_clock)]
async fn a_reported_delay_longer_than_the_configured_one_wins() {
    let dir = TempDir::new("disk-learn-longer");
    frontier_cases::a_reported_delay_longer_than_the_configured_one_wins(disk(&dir)).await;
}

#[tulip::test(test_clock)]
async fn finish_queues_links_and_completes() {
    let dir = TempDir::new("disk-finish");
    frontier_cases::finish_queues_links_and_completes(disk(&dir)).await;
}

#[tulip::test(test_clock)]
async fn round_robin_takes_turns_within_one_claim() {
    let dir = TempDir::new("disk-turns");
    frontier_cases::round_robin_takes_turns_within_one_claim(disk(&dir)).await;
}

#[tulip::test]
async fn reopen_keeps_the_state_and_requeues_leases() {
    let dir = TempDir::new("disk-reopen");
    let open = disk(&dir);
    {
        let frontier = open(FrontierConfig::default()).await;
        frontier
            .push(jobs(&[
                "http://a/1",
                "http://a/2",
                "http://b/1",
                "http://b/2",
            ]))
            .await
            .unwrap();
        frontier
            .mark_seen(&[url::Url::parse("http://c/").unwrap()])
            .await
            .unwrap();
        let claim = frontier.claim(3, Instant::now()).await.unwrap();
        assert_eq!(
            urls(&claim.jobs),
            ["http://a/1", "http://b/1", "http://a/2"]
        );
        let child = claim.jobs[0].child(url::Url::parse("http://a/3").unwrap());
        frontier
            .finish(
                vec![
                    Completion::ok(claim.jobs[0].clone()),
                    Completion::failed(claim.jobs[1].clone()),
                ],
                vec![child],
            )
            .await
            .unwrap();
        frontier.record_output_len(1234);
        frontier.complete(vec![]).await.unwrap();
        // http://a/2 stays leased when the frontier goes away.
    }
    let frontier = open(FrontierConfig::default()).await;
    assert_eq!(frontier.output_len(), Some(1234));
    let c = frontier.counters().await.unwrap();
    assert_eq!(
        (c.queued, c.in_flight, c.done, c.failed, c.seen),
        (3, 0, 1, 1, 6)
    );
    // Pushing what is already known adds nothing.
    let again = frontier
        .push(jobs(&["http://a/1", "http://a/2", "http://c/"]))
        .await
        .unwrap();
    assert_eq!(again, 0);
    let claim = frontier.claim(10, Instant::now()).await.unwrap();
    let mut got = urls(&claim.jobs);
    got.sort_unstable();
    assert_eq!(got, ["http://a/2", "http://a/3", "http://b/2"]);
    let a3 = claim
        .jobs
        .iter()
        .find(|j| j.url.as_str() == "http://a/3")
        .unwrap();
    assert_eq!(
        (a3.depth, a3.parent.as_ref().map(url::Url::as_str)),
        (1, Some("http://a/1"))
    );
}

/// The demo site as the crawl tests use it.
fn site() -> Rc<DemoSite> {
    Rc::new(DemoSite::new(DemoConfig {
        pages: 600,
        slow_delay: Duration::from_millis(20),
        ..DemoConfig::default()
    }))
}

const LIMIT: usize = 8;

fn areq(dir: &TempDir, urls_file: &Path) -> Command {
    let mut cmd = recursive_crawl(urls_file, &dir.path("found.tsv"), LIMIT, "0.004");
    cmd.arg("--state").arg(dir.path("state"));
    cmd
}

/// Crawls the demo site with the binary, sends `signal` once the server has answered 150
/// requests, runs the binary again until it finishes, and returns the first run's exit code,
/// the requests per path over both runs, and the expected crawl. Checks the output.
fn interrupted_crawl(
    name: &str,
    signal: rustix::process::Signal,
) -> (
    Option<i32>,
    BTreeMap<String, u32>,
    areq::demo::ExpectedCrawl,
) {
    let dir = TempDir::new(name);
    let site = site();
    let urls_file = dir.path("urls.txt");
    let (code, counts, expected) = tulip::run(async {
        let server = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let base = server.base_url().clone();
        std::fs::write(&urls_file, format!("{base}\n")).unwrap();

        let mut child = areq(&dir, &urls_file).spawn().unwrap();
        let give_up = std::time::Instant::now() + Duration::from_secs(60);
        run_until(&mut child, give_up, || {
            server.requests().values().sum::<u32>() >= 150
        })
        .await;
        support::signal(&child, signal);
        let (first, _) = wait_exit(&mut child, give_up).await;
        assert!(
            site.expected_crawl(&base, false).fetched.len() as u32
                > server.requests().values().sum::<u32>(),
            "the first run finished the crawl before the signal"
        );

        let mut again = areq(&dir, &urls_file).spawn().unwrap();
        let (status, stderr) = wait_exit(&mut again, give_up + Duration::from_secs(60)).await;
        assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
        assert!(
            stderr.contains("pages crawled by an earlier run"),
            "stderr:\n{stderr}"
        );
        let counts = server.requests();
        server.shutdown().await;
        (first.code(), counts, site.expected_crawl(&base, false))
    });
    let lines = line_set(read_tsv(&dir.path("found.tsv")));
    assert_eq!(lines, expected.lines);
    let fetched: std::collections::BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(fetched, expected.fetched, "pages missed or unexpected");
    (code, counts, expected)
}

#[test]
fn sigkill_then_resume_fetches_only_the_pages_in_flight_again() {
    let (code, counts, _) = interrupted_crawl("disk-kill", rustix::process::Signal::KILL);
    assert_eq!(code, None, "killed by a signal");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        counts.values().all(|n| *n <= 2),
        "requested more than twice: {twice:?}"
    );
    assert!(
        twice.len() <= LIMIT,
        "more pages fetched twice than can be in flight ({LIMIT}): {twice:?}"
    );
    eprintln!("pages fetched again after SIGKILL: {}", twice.len());
}

#[test]
fn sigint_then_resume_fetches_nothing_twice() {
    let (code, counts, _) = interrupted_crawl("disk-int", rustix::process::Signal::INT);
    assert_eq!(code, Some(130));
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "requested more than once: {twice:?}");
}

/// Runs the binary with `--state state`; it must fail naming `named`, without a panic.
fn assert_state_error(state: &Path, named: &Path) {
    let dir = TempDir::new("disk-bad-run");
    std::fs::write(dir.path("urls.txt"), "http://127.0.0.1:9/\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_areq"))
        .arg(dir.path("urls.txt"))
        .arg("-o")
        .arg(dir.path("found.tsv"))
        .arg("--state")
        .arg(state)
        .arg("-q")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&named.display().to_string()),
        "stderr does not name {}:\n{stderr}",
        named.display()
    );
    assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
}

#[test]
fn state_dir_that_is_a_file() {
    let dir = TempDir::new("disk-file");
    let file = dir.path("state");
    std::fs::write(&file, "not a directory").unwrap();
    assert_state_error(&file, &file);
    let err = DiskFrontier::open(&file, FrontierConfig::default()).unwrap_err();
    assert!(err.to_string().contains(&file.display().to_string()));
}

#[test]
fn state_dir_not_writable() {
    // /proc/self is a directory no one (not even root) can create a file in.
    let dir = Path::new("/proc/self");
    assert_state_error(dir, &dir.join(STATE_FILE));
}

#[test]
fn corrupt_state_file() {
    let dir = TempDir::new("disk-corrupt");
    std::fs::write(dir.path(STATE_FILE), vec![0x5a; 8192]).unwrap();
    assert_state_error(&dir.0, &dir.path(STATE_FILE));
}

#[test]
fn foreign_database() {
    let dir = TempDir::new("disk-foreign");
    {
        let db = redb::Database::create(dir.path(STATE_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        let table: redb::TableDefinition<'_, u32, u32> = redb::TableDefinition::new("other");
        txn.open_table(table).unwrap().insert(1, 2).unwrap();
        txn.commit().unwrap();
    }
    assert_state_error(&dir.0, &dir.path(STATE_FILE));
    let err = DiskFrontier::open(&dir.0, FrontierConfig::default()).unwrap_err();
    assert!(err.to_string().contains("not an areq state"), "{err}");
}

#[test]
fn resume_cuts_unrecorded_lines_and_refuses_a_shortened_output() {
    let dir = TempDir::new("disk-cut");
    let output = dir.path("found.tsv");
    let site = site();
    tulip::run(async {
        let server = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let mut config = areq::crawler::Config::new(output.clone());
        config.urls = vec![server.base_url().clone()];
        config.depth = u32::MAX;
        config.same_host = true;
        config.state = Some(dir.path("state"));
        let first = areq::crawler::crawl(&config).await.unwrap();
        assert!(first.pages > 0);
        let full = std::fs::read(&output).unwrap();
        let requests = server.requests();

        // Lines written after the last commit (a page killed before its completion was
        // recorded) are cut off by the next run.
        let mut longer = full.clone();
        longer.extend_from_slice(b"http://x/\thttp://x/y\n");
        std::fs::write(&output, &longer).unwrap();
        let second = areq::crawler::crawl(&config).await.unwrap();
        assert_eq!(second.pages, 0);
        assert!(second.resumed > 0);
        assert_eq!(std::fs::read(&output).unwrap(), full);
        assert_eq!(server.requests(), requests, "nothing fetched again");

        // An output shorter than recorded was changed by someone else: refused, by path.
        std::fs::write(&output, &full[..full.len() - 10]).unwrap();
        let err = areq::crawler::crawl(&config).await.unwrap_err();
        assert!(matches!(err, areq::Error::Output { .. }), "{err}");
        assert!(
            err.to_string().contains(&output.display().to_string()),
            "{err}"
        );
        server.shutdown().await;
    });
}

#[test]
fn state_and_resume_exclude_each_other() {
    use clap::Parser;
    let err = areq::cli::Cli::try_parse_from(["areq", "--state", "dir", "--resume"]).unwrap_err();
    assert!(err.to_string().contains("--state"), "{err}");
    let cli = areq::cli::Cli::try_parse_from(["areq", "--state", "dir"]).unwrap();
    assert_eq!(cli.to_config().unwrap().state, Some("dir".into()));
}

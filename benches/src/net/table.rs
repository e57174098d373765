//! Tables for the network and HTTP scenarios: like `report::Table`, in Markdown, but the rows
//! are servers or clients (built in, Python, or any command) and ratios can be taken against
//! any of them — tokio current_thread and the bare mio floor in the echo tables, reqwest, hyper
//! and the Python peers in the HTTP ones.

use crate::report::{Metric, median};

/// What a row measures: a server or a client, named by a short key (`--servers`, ratio columns,
/// targets apply to keys starting with `tulip`) and a row label.
pub(crate) trait Subject {
    /// The short name.
    fn key(&self) -> &str;
    /// The row label.
    fn label(&self) -> &str;
}

/// Every run of one server: `runs[i][m]` is metric `m` of run `i` (NaN when it failed).
#[derive(Debug)]
pub(crate) struct Row {
    /// The subject's key.
    pub(crate) key: String,
    /// The subject's row label.
    pub(crate) label: String,
    /// One vector of metric values per run.
    pub(crate) runs: Vec<Vec<f64>>,
}

impl Row {
    fn median(&self, m: usize) -> f64 {
        median(self.runs.iter().map(|run| run[m]).collect())
    }

    fn range(&self, m: usize) -> (f64, f64) {
        let values = self.runs.iter().map(|run| run[m]);
        let min = values.clone().fold(f64::INFINITY, f64::min);
        let max = values.fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    }
}

/// What a column shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    /// The median of a metric.
    Median(usize),
    /// The median of a metric divided by that of the row with this key.
    Ratio(usize, &'static str),
    /// The min–max of a metric over the runs.
    Range(usize),
}

/// A target the tulip rows must meet: on metric `m`, at most (or at least) `factor` times the
/// row with key `baseline`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// ≤ factor × baseline.
    AtMost(usize, f64, &'static str),
    /// ≥ factor × baseline.
    AtLeast(usize, f64, &'static str),
}

/// A scenario's results.
#[derive(Debug)]
pub(crate) struct Table {
    title: String,
    /// The first column's header: what the rows are.
    subject: &'static str,
    metrics: &'static [Metric],
    cols: &'static [Col],
    rows: Vec<Row>,
    targets: Vec<Target>,
}

impl Table {
    /// A table of `rows`, each run carrying one value per metric in `metrics`, showing `cols`.
    pub(crate) fn new(
        title: String,
        metrics: &'static [Metric],
        cols: &'static [Col],
        rows: Vec<Row>,
    ) -> Table {
        Table {
            title,
            subject: "server",
            metrics,
            cols,
            rows,
            targets: Vec::new(),
        }
    }

    /// Names what the rows are in the first column's header (`server` unless told).
    pub(crate) fn subject(mut self, subject: &'static str) -> Table {
        self.subject = subject;
        self
    }

    /// Adds a target every tulip row is checked against under the table.
    pub(crate) fn target(mut self, target: Target) -> Table {
        self.targets.push(target);
        self
    }

    fn baseline(&self, key: &str, m: usize) -> f64 {
        self.rows
            .iter()
            .find(|row| row.key == key)
            .map_or(f64::NAN, |row| row.median(m))
    }

    /// Prints the table and the target checks to stdout.
    pub(crate) fn print(&self) {
        println!("### {}\n", self.title);
        let runs = self.rows.first().map_or(0, |row| row.runs.len());
        let mut header = format!("| {} |", self.subject);
        for (i, col) in self.cols.iter().enumerate() {
            header += &match *col {
                Col::Median(m) if i == 0 => {
                    format!(" {} (median of {runs}) |", self.metrics[m].name)
                }
                Col::Median(m) => format!(" {} |", self.metrics[m].name),
                Col::Ratio(_, key) => format!(" × {key} |"),
                Col::Range(_) => " min–max |".to_string(),
            };
        }
        println!("{header}\n|---|{}", "---:|".repeat(self.cols.len()));
        for row in &self.rows {
            let mut line = format!("| {} |", row.label);
            for col in self.cols {
                line += &format!(" {} |", self.cell(row, *col));
            }
            println!("{line}");
        }
        println!();
        for target in &self.targets {
            for row in self.rows.iter().filter(|r| r.key.starts_with("tulip")) {
                println!("{}", self.check(row, *target));
            }
        }
        if !self.targets.is_empty() {
            println!();
        }
    }

    fn cell(&self, row: &Row, col: Col) -> String {
        match col {
            Col::Median(m) => fmt(row.median(m), self.metrics[m].decimals),
            Col::Ratio(m, key) => fmt(row.median(m) / self.baseline(key, m), 2),
            Col::Range(m) => {
                let (min, max) = row.range(m);
                let d = self.metrics[m].decimals;
                format!("{}–{}", fmt(min, d), fmt(max, d))
            }
        }
    }

    fn check(&self, row: &Row, target: Target) -> String {
        let (m, factor, key, at_most) = match target {
            Target::AtMost(m, factor, key) => (m, factor, key, true),
            Target::AtLeast(m, factor, key) => (m, factor, key, false),
        };
        let ratio = row.median(m) / self.baseline(key, m);
        let met = if at_most {
            ratio <= factor
        } else {
            ratio >= factor
        };
        let verdict = match (ratio.is_nan(), met) {
            (true, _) => "not measured",
            (false, true) => "met",
            (false, false) => "MISSED",
        };
        let sign = if at_most { "≤" } else { "≥" };
        format!(
            "- target: {} {} {sign} {factor:.2}× {key}: {}× — {verdict}",
            row.key,
            self.metrics[m].name,
            fmt(ratio, 2)
        )
    }
}

fn fmt(value: f64, decimals: usize) -> String {
    if value.is_nan() {
        "n/a".to_string()
    } else {
        format!("{value:.decimals$}")
    }
}

/// Runs `once` for every subject in turn, `reps` rotations, each starting one subject further
/// on (as `runtimes::rotate` does); a run that fails is reported on stderr and counts as NaN.
pub(crate) fn rotate<S: Subject, E: std::fmt::Display>(
    subjects: &[S],
    reps: usize,
    metrics: usize,
    mut once: impl FnMut(&S) -> Result<Vec<f64>, E>,
) -> Vec<Row> {
    let mut rows: Vec<Row> = subjects
        .iter()
        .map(|subject| Row {
            key: subject.key().to_string(),
            label: subject.label().to_string(),
            runs: Vec::with_capacity(reps),
        })
        .collect();
    let count = rows.len();
    for rep in 0..reps {
        for i in 0..count {
            let at = (rep + i) % count;
            let run = once(&subjects[at]).unwrap_or_else(|e| {
                eprintln!("  {}: {e}", rows[at].key);
                vec![f64::NAN; metrics]
            });
            rows[at].runs.push(run);
        }
    }
    rows
}

//! Statistics (median, percentiles) and the tables the benchmark prints, in Markdown so a run
//! can be pasted into the README as it is.

use crate::runtimes::Runtime;

/// One measured quantity: a table column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metric {
    /// Column header, with its unit.
    pub(crate) name: &'static str,
    /// Digits printed after the decimal point.
    pub(crate) decimals: usize,
}

impl Metric {
    /// A metric printed with `decimals` digits after the point.
    pub(crate) const fn new(name: &'static str, decimals: usize) -> Metric {
        Metric { name, decimals }
    }
}

/// What tulip must reach on one metric of a table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// tulip's median at most this many times tokio current_thread's.
    RatioAtMost(f64),
    /// tulip's median at most this value, in the metric's unit.
    AtMost(f64),
}

/// Every run of one runtime: `runs[i][m]` is metric `m` of run `i`.
#[derive(Debug)]
pub(crate) struct Row {
    /// The runtime measured.
    pub(crate) runtime: Runtime,
    /// One vector of metric values per run.
    pub(crate) runs: Vec<Vec<f64>>,
}

impl Row {
    /// The median over runs of metric `m`; NaN when a run could not measure it.
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

/// A scenario's results: the first metric gets the median, its ratio to tokio current_thread
/// and its min–max range; the others get their medians.
#[derive(Debug)]
pub(crate) struct Table {
    title: String,
    metrics: &'static [Metric],
    rows: Vec<Row>,
    targets: Vec<(usize, Target)>,
}

impl Table {
    /// A table of `rows`, each run carrying one value per metric in `metrics`.
    pub(crate) fn new(title: String, metrics: &'static [Metric], rows: Vec<Row>) -> Table {
        Table {
            title,
            metrics,
            rows,
            targets: Vec::new(),
        }
    }

    /// Adds a target tulip must meet on metric `m`, checked under the table.
    pub(crate) fn target(mut self, m: usize, target: Target) -> Table {
        self.targets.push((m, target));
        self
    }

    fn baseline(&self, m: usize) -> Option<f64> {
        self.rows
            .iter()
            .find(|row| row.runtime == Runtime::TokioCt)
            .map(|row| row.median(m))
    }

    /// Prints the table and the target checks to stdout.
    pub(crate) fn print(&self) {
        println!("### {}\n", self.title);
        self.print_header();
        let base = self.baseline(0);
        for row in &self.rows {
            self.print_row(row, base);
        }
        println!();
        for &(m, target) in &self.targets {
            println!("{}", self.check(m, target));
        }
        if !self.targets.is_empty() {
            println!();
        }
    }

    fn print_header(&self) {
        let runs = self.rows.first().map_or(0, |row| row.runs.len());
        let mut header = format!(
            "| runtime | {} (median of {runs}) | × tokio-ct | min–max |",
            self.metrics[0].name
        );
        for metric in &self.metrics[1..] {
            header += &format!(" {} |", metric.name);
        }
        let align = "---:|".repeat(self.metrics.len() + 2);
        println!("{header}\n|---|{align}");
    }

    /// One row: the primary metric's median, ratio to `base` and range, then the other medians.
    fn print_row(&self, row: &Row, base: Option<f64>) {
        let d = self.metrics[0].decimals;
        let med = row.median(0);
        let (min, max) = row.range(0);
        let ratio = base.map_or("n/a".into(), |b| fmt(med / b, 2));
        let mut line = format!(
            "| {} | {} | {ratio} | {}–{} |",
            row.runtime.name(),
            fmt(med, d),
            fmt(min, d),
            fmt(max, d)
        );
        for (m, metric) in self.metrics.iter().enumerate().skip(1) {
            line += &format!(" {} |", fmt(row.median(m), metric.decimals));
        }
        println!("{line}");
    }

    fn check(&self, m: usize, target: Target) -> String {
        let name = self.metrics[m].name;
        let Some(tulip) = self.rows.iter().find(|r| r.runtime == Runtime::Tulip) else {
            return format!("target on {name}: tulip not measured");
        };
        let value = tulip.median(m);
        let (got, limit, what) = match target {
            Target::RatioAtMost(limit) => match self.baseline(m) {
                Some(base) => (value / base, limit, format!("{limit:.2}× tokio-ct")),
                None => return format!("target on {name}: tokio-ct not measured"),
            },
            Target::AtMost(limit) => (value, limit, fmt(limit, self.metrics[m].decimals.max(1))),
        };
        let verdict = if got <= limit { "met" } else { "MISSED" };
        let shown = match target {
            Target::RatioAtMost(_) => format!("{got:.2}×"),
            Target::AtMost(_) => fmt(got, self.metrics[m].decimals),
        };
        format!("- target: tulip {name} ≤ {what}: {shown} — {verdict}")
    }
}

fn fmt(value: f64, decimals: usize) -> String {
    if value.is_nan() {
        "n/a".to_string()
    } else {
        format!("{value:.decimals$}")
    }
}

/// The median of `values` (mean of the middle two when even); NaN when empty or when any
/// value is NaN.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The `p`-th percentile (0–100) of already sorted `values`, nearest rank.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

//! Figures of one measurement, their aggregation over runs (median with min–max) and the table
//! the suite prints.

use crate::load::Outcome;

/// The figures of one measurement.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Requests per second.
    pub rate: f64,
    /// Latency percentiles, microseconds.
    pub p50: f64,
    /// p99, µs.
    pub p99: f64,
    /// p99.9, µs.
    pub p999: f64,
    /// Throughput divided by bare hyper's in the same pass.
    pub rate_ratio: Option<f64>,
    /// p99 divided by bare hyper's p99 in the same pass.
    pub p99_ratio: Option<f64>,
    /// Answers other than 200 plus connection errors.
    pub failures: u64,
    /// A connection ran out of signed requests.
    pub exhausted: bool,
}

impl Figures {
    /// The figures of `out`, with ratios to `bare` when given.
    pub fn of(out: &Outcome, bare: Option<&Figures>) -> Figures {
        let rate = out.rate();
        let p99 = out.quantile_us(0.99);
        Figures {
            rate,
            p50: out.quantile_us(0.5),
            p99,
            p999: out.quantile_us(0.999),
            rate_ratio: bare.map(|b| rate / b.rate),
            p99_ratio: bare.map(|b| p99 / b.p99),
            failures: out.non_200 + out.errors,
            exhausted: out.exhausted,
        }
    }
}

/// Median, min and max of a sample.
pub fn spread(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((median, v[0], v[n - 1]))
}

/// `median` alone for one run, `median [min–max]` for more.
pub fn show(values: &[f64], decimals: usize) -> String {
    match spread(values) {
        None => "-".into(),
        Some((m, lo, hi)) if values.len() == 1 || lo == hi => format!("{m:.decimals$}"),
        Some((m, lo, hi)) => format!("{m:.decimals$} [{lo:.decimals$}–{hi:.decimals$}]"),
    }
}

/// Rows keyed by (label, auth), in first-seen order, each with one `Figures` per run.
#[derive(Default)]
pub struct Table {
    rows: Vec<(String, String, Vec<Figures>)>,
}

impl Table {
    /// Adds one run's figures to a row.
    pub fn add(&mut self, label: String, auth: &str, figures: Figures) {
        match self
            .rows
            .iter_mut()
            .find(|(l, a, _)| *l == label && a == auth)
        {
            Some((_, _, runs)) => runs.push(figures),
            None => self.rows.push((label, auth.to_string(), vec![figures])),
        }
    }

    /// Prints the table as Markdown.
    pub fn print(&self) {
        println!();
        println!("| scenario | auth | req/s | p50 µs | p99 µs | p99.9 µs | req/s ÷ bare | p99 ÷ bare p99 | failures |");
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (label, auth, runs) in &self.rows {
            let col = |f: &dyn Fn(&Figures) -> Option<f64>| -> Vec<f64> {
                runs.iter().filter_map(f).collect()
            };
            let failures: u64 = runs.iter().map(|r| r.failures).sum();
            let exhausted = runs.iter().any(|r| r.exhausted);
            println!(
                "| {label} | {auth} | {} | {} | {} | {} | {} | {} | {failures}{} |",
                show(&col(&|r| Some(r.rate)), 0),
                show(&col(&|r| Some(r.p50)), 0),
                show(&col(&|r| Some(r.p99)), 0),
                show(&col(&|r| Some(r.p999)), 0),
                show(&col(&|r| r.rate_ratio), 2),
                show(&col(&|r| r.p99_ratio), 2),
                if exhausted { " (pool ran out)" } else { "" },
            );
        }
    }
}

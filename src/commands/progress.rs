//! The CLI's progress display: indicatif bars and status lines, hidden when quiet,
//! verbose, or not a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::reporter::Reporter;

pub struct CliReporter {
    multi: MultiProgress,
    bars: bool,
    quiet: bool,
    current: Mutex<Option<ProgressBar>>,
    step: Mutex<Option<ProgressBar>>,
}

impl CliReporter {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let bars = !quiet && !verbose && std::io::stderr().is_terminal();
        let multi = MultiProgress::new();
        if !bars {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self {
            multi,
            bars,
            quiet,
            current: Mutex::new(None),
            step: Mutex::new(None),
        }
    }

    /// Prints a status line to stderr without tearing the bars.
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        self.multi.suspend(|| eprintln!("{text}"));
    }

    pub fn finish(&self) {
        if let Some(bar) = self.step.lock().expect("lock").take() {
            bar.finish_and_clear();
        }
        if let Some(bar) = self.current.lock().expect("lock").take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for CliReporter {
    fn step(&self, name: &str) {
        if !self.bars {
            self.line(&format!("==> {name}"));
            return;
        }
        let mut step = self.step.lock().expect("lock");
        let bar = step.get_or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(name.to_string());
    }

    fn task_start(&self, label: &str, total: Option<u64>) {
        if !self.bars {
            return;
        }
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::new(total);
                let template = if total > 10_000 {
                    "  {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}"
                } else {
                    "  {msg} [{bar:30}] {pos}/{len}"
                };
                bar.set_style(
                    ProgressStyle::with_template(template)
                        .expect("template")
                        .progress_chars("=> "),
                );
                bar
            }
            None => ProgressBar::new_spinner(),
        };
        bar.set_message(label.to_string());
        let bar = self.multi.add(bar);
        if let Some(old) = self.current.lock().expect("lock").replace(bar) {
            old.finish_and_clear();
        }
    }

    fn task_advance(&self, delta: u64) {
        if let Some(bar) = self.current.lock().expect("lock").as_ref() {
            bar.inc(delta);
        }
    }

    fn task_finish(&self) {
        if let Some(bar) = self.current.lock().expect("lock").take() {
            bar.finish_and_clear();
        }
    }

    fn info(&self, message: &str) {
        self.line(message);
    }

    /// Shown also with `--quiet`.
    fn warn(&self, message: &str) {
        self.multi.suspend(|| eprintln!("warning: {message}"));
    }
}

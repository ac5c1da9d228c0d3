//! A reporter that records every event, to check what the core code reports.

use std::sync::Mutex;

use wlmake::reporter::Reporter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Step(String),
    Start(String, Option<u64>),
    Advance(u64),
    Finish,
    Info(String),
}

#[derive(Default)]
pub struct RecordingReporter {
    pub events: Mutex<Vec<Event>>,
}

impl RecordingReporter {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// The total advanced between the `task_start` whose label starts with `label` and the
    /// next `task_finish`, with the announced total.
    pub fn task(&self, label: &str) -> Option<(String, Option<u64>, u64)> {
        let events = self.events();
        let start = events
            .iter()
            .position(|event| matches!(event, Event::Start(text, _) if text.starts_with(label)))?;
        let Event::Start(text, total) = &events[start] else {
            unreachable!()
        };
        let mut advanced = 0;
        for event in &events[start + 1..] {
            match event {
                Event::Advance(delta) => advanced += delta,
                Event::Finish => return Some((text.clone(), *total, advanced)),
                _ => {}
            }
        }
        None
    }
}

impl Reporter for RecordingReporter {
    fn step(&self, name: &str) {
        self.events
            .lock()
            .unwrap()
            .push(Event::Step(name.to_string()));
    }
    fn task_start(&self, label: &str, total: Option<u64>) {
        self.events
            .lock()
            .unwrap()
            .push(Event::Start(label.to_string(), total));
    }
    fn task_advance(&self, delta: u64) {
        self.events.lock().unwrap().push(Event::Advance(delta));
    }
    fn task_finish(&self) {
        self.events.lock().unwrap().push(Event::Finish);
    }
    fn info(&self, message: &str) {
        self.events
            .lock()
            .unwrap()
            .push(Event::Info(message.to_string()));
    }
}

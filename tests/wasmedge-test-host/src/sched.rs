//! `poll_oneoff` that reports only the subscriptions poll(2) found ready, as WasmEdge
//! does. wasi-common's own sync scheduler completes every read/write subscription as
//! soon as any one is ready, so a listening socket polled next to a client looks
//! readable with nobody waiting, and a blocking `accept` then hangs the guest (PHP's
//! server selects on both). Everything else is wasi-common's scheduler.

use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use wasi_common::sched::subscription::{RwEventFlags, Subscription};
use wasi_common::sched::{Poll, WasiSched};
use wasi_common::{Error, ErrorExt};

pub struct ReadyOnlySched;

#[async_trait::async_trait]
impl WasiSched for ReadyOnlySched {
    async fn poll_oneoff<'a>(&self, poll: &mut Poll<'a>) -> Result<(), Error> {
        if poll.is_empty() {
            return Ok(());
        }
        let mut pollfds = Vec::new();
        for subscription in poll.rw_subscriptions() {
            let (file, events) = match subscription {
                Subscription::Read(read) => (read.file, PollFlags::IN),
                Subscription::Write(write) => (write.file, PollFlags::OUT),
                Subscription::MonotonicClock(_) => unreachable!("not an rw subscription"),
            };
            let fd = file
                .pollable()
                .ok_or_else(|| Error::invalid_argument().context("file is not pollable"))?;
            pollfds.push(PollFd::from_borrowed_fd(fd, events));
        }
        let ready = loop {
            let timeout = match poll.earliest_clock_deadline() {
                Some(deadline) => Some(
                    deadline
                        .duration_until()
                        .unwrap_or(Duration::ZERO)
                        .try_into()
                        .map_err(|_| Error::overflow().context("poll timeout"))?,
                ),
                None => None,
            };
            match rustix::event::poll(&mut pollfds, timeout.as_ref()) {
                Ok(ready) => break ready,
                Err(rustix::io::Errno::INTR) => continue,
                Err(error) => return Err(std::io::Error::from(error).into()),
            }
        };
        if ready == 0 {
            // Timed out: the caller reads the clock subscription's result.
            return Ok(());
        }
        for (subscription, pollfd) in poll.rw_subscriptions().zip(pollfds) {
            let revents = pollfd.revents();
            if revents.is_empty() {
                continue;
            }
            let (bytes, subscription) = match subscription {
                Subscription::Read(read) => (read.file.num_ready_bytes()?.max(1), read),
                Subscription::Write(write) => (0, write),
                Subscription::MonotonicClock(_) => unreachable!("not an rw subscription"),
            };
            if revents.contains(PollFlags::NVAL) {
                subscription.error(Error::badf());
            } else if revents.contains(PollFlags::ERR) {
                subscription.error(Error::io());
            } else if revents.contains(PollFlags::HUP) {
                subscription.complete(bytes, RwEventFlags::HANGUP);
            } else {
                subscription.complete(bytes, RwEventFlags::empty());
            }
        }
        Ok(())
    }

    async fn sched_yield(&self) -> Result<(), Error> {
        std::thread::yield_now();
        Ok(())
    }

    async fn sleep(&self, duration: Duration) -> Result<(), Error> {
        std::thread::sleep(duration);
        Ok(())
    }
}

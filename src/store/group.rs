//! Group commit: writes that arrive while another is being committed are written together, in
//! one transaction with one sync, by whichever of their threads comes first (the leader), while
//! the others wait for their results.
//!
//! SQLite has one writer per file and `synchronous = FULL` syncs the WAL at every commit: under a
//! burst (a shift's check-ins) writers queue one by one behind each other and behind every
//! checkpoint, and the queue drains at one commit per writer. Grouped, a queue of n drains in
//! one commit. No extra thread: a thread that submits when no leader is writing becomes the
//! leader, takes everything queued (up to `max_batch`), writes it, hands out the results, and
//! leaves; items that arrived meanwhile are taken by the next leader, one of their own threads.
//!
//! Items are owned (`Send`): another request's thread may write them. A leader that panics hands
//! its batch `None` (their callers report the failure) and the group goes on.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// A group commit of items `I` giving results `O`.
pub struct GroupCommit<I, O> {
    state: Mutex<State<I, O>>,
    /// Signalled when a leader hands out results.
    handed: Condvar,
    max_batch: usize,
}

struct State<I, O> {
    /// Submitted, not yet taken by a leader: (ticket, item).
    queue: Vec<(u64, I)>,
    /// A leader is writing.
    leading: bool,
    /// The next ticket.
    next: u64,
    /// Results not yet collected (`None`: the leader failed).
    results: HashMap<u64, Option<O>>,
}

impl<I, O> GroupCommit<I, O> {
    /// A group writing at most `max_batch` items at a time (at least 1).
    pub fn new(max_batch: usize) -> Self {
        GroupCommit {
            state: Mutex::new(State {
                queue: Vec::new(),
                leading: false,
                next: 0,
                results: HashMap::new(),
            }),
            handed: Condvar::new(),
            max_batch: max_batch.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<I, O>> {
        // the state is consistent between statements: a panic elsewhere cannot break it
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Submits `item` and returns its result: written by this thread with whatever else is
    /// queued (`write` gets the batch in submission order and returns one result per item, in
    /// the same order), or by another thread's `write`. `None` when the batch's leader failed
    /// (panicked, or returned the wrong number of results).
    pub fn submit(&self, item: I, write: impl Fn(Vec<I>) -> Vec<O>) -> Option<O> {
        let mut st = self.lock();
        let ticket = st.next;
        st.next += 1;
        st.queue.push((ticket, item));
        loop {
            if let Some(r) = st.results.remove(&ticket) {
                return r;
            }
            if !st.leading {
                st.leading = true;
                let take = st.queue.len().min(self.max_batch);
                let batch: Vec<(u64, I)> = st.queue.drain(..take).collect();
                drop(st);
                let tickets: Vec<u64> = batch.iter().map(|(t, _)| *t).collect();
                let mut lead = Leading {
                    group: self,
                    tickets: &tickets,
                    done: false,
                };
                let out = write(batch.into_iter().map(|(_, i)| i).collect());
                lead.hand_out(out);
                st = self.lock();
                continue;
            }
            st = self.handed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A leader's batch: its results handed out, or `None` for each if it unwinds.
struct Leading<'a, I, O> {
    group: &'a GroupCommit<I, O>,
    tickets: &'a [u64],
    done: bool,
}

impl<I, O> Leading<'_, I, O> {
    fn hand_out(&mut self, out: Vec<O>) {
        let mut st = self.group.lock();
        if out.len() == self.tickets.len() {
            for (t, o) in self.tickets.iter().zip(out) {
                st.results.insert(*t, Some(o));
            }
        } else {
            for t in self.tickets {
                st.results.insert(*t, None);
            }
        }
        st.leading = false;
        self.done = true;
        drop(st);
        self.group.handed.notify_all();
    }
}

impl<I, O> Drop for Leading<'_, I, O> {
    fn drop(&mut self) {
        if !self.done {
            let mut st = self.group.lock();
            for t in self.tickets {
                st.results.insert(*t, None);
            }
            st.leading = false;
            drop(st);
            self.group.handed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn one_thread_writes_its_own_item() {
        let g = GroupCommit::new(8);
        assert_eq!(g.submit(3, |b| b.iter().map(|i| i * 2).collect()), Some(6));
        assert_eq!(g.submit(4, |b| b.iter().map(|i| i * 2).collect()), Some(8));
    }

    #[test]
    fn concurrent_items_are_written_in_fewer_batches_each_getting_its_own_result() {
        let g = Arc::new(GroupCommit::new(64));
        let batches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..32u64)
            .map(|i| {
                let (g, batches) = (g.clone(), batches.clone());
                std::thread::spawn(move || {
                    g.submit(i, |b: Vec<u64>| {
                        batches.fetch_add(1, Ordering::SeqCst);
                        // a slow commit: others queue meanwhile
                        std::thread::sleep(Duration::from_millis(20));
                        b.iter().map(|x| x * 10).collect()
                    })
                })
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            assert_eq!(t.join().ok().flatten(), Some(i as u64 * 10));
        }
        let n = batches.load(Ordering::SeqCst);
        assert!(n < 32, "32 concurrent items in {n} batches");
    }

    #[test]
    fn batches_are_bounded() {
        let g = Arc::new(GroupCommit::new(2));
        let largest = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..12u32)
            .map(|i| {
                let (g, largest) = (g.clone(), largest.clone());
                std::thread::spawn(move || {
                    g.submit(i, |b: Vec<u32>| {
                        largest.fetch_max(b.len(), Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        b
                    })
                })
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            assert_eq!(t.join().ok().flatten(), Some(i as u32));
        }
        assert!(largest.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn a_leader_that_panics_fails_its_batch_and_the_group_goes_on() {
        let g = GroupCommit::new(8);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.submit(1, |_: Vec<i32>| -> Vec<i32> { panic!("the write failed") })
        }));
        assert!(panicked.is_err());
        assert_eq!(g.submit(2, |b| b), Some(2));
        // a wrong number of results is a failure, not a mix-up
        assert_eq!(g.submit(3, |_| Vec::new()), None);
    }
}

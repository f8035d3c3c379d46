//! Group commit for single-item writes. Every commit waits for the disk (an fsync), so one
//! transaction per request would cap a busy endpoint at the disk's flush rate. Instead, items
//! that arrive while a commit is under way queue up and go together in the next transaction:
//! N concurrent requests cost one flush, not N. Each caller still gets its own outcome, and only
//! after the transaction holding its item has committed.

use rapport_store::{RowOutcome, StoreError, StoreResult};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// Most items one transaction takes; more wait for the next one.
pub const MAX_GROUP: usize = 1000;

/// A boxed future, as the flush function returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

type Reply<R> = oneshot::Sender<StoreResult<R>>;
type Flush<T, R> = Arc<dyn Fn(Vec<T>) -> BoxFuture<'static, StoreResult<Vec<R>>> + Send + Sync>;

/// A queue in front of one batch write (e.g. `Store::ingest_feedback`, whose outcome per item
/// is a `RowOutcome`, or `LoyaltyStore::record_loyalty_batch`).
pub struct GroupCommit<T, R = RowOutcome> {
    flush: Flush<T, R>,
    // Started on first use, so building the server state needs no runtime.
    queue: OnceLock<mpsc::Sender<(T, Reply<R>)>>,
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    pub fn new(
        flush: impl Fn(Vec<T>) -> BoxFuture<'static, StoreResult<Vec<R>>> + Send + Sync + 'static,
    ) -> GroupCommit<T, R> {
        GroupCommit { flush: Arc::new(flush), queue: OnceLock::new() }
    }

    /// Stores `item` with whatever else is waiting; returns once it is committed.
    pub async fn submit(&self, item: T) -> StoreResult<R> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
            tokio::spawn(run(self.flush.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue.send((item, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::other(std::io::Error::other("the write queue has stopped"))
}

/// The writer: takes the first waiting item, everything queued behind it (up to
/// [`MAX_GROUP`]), writes them in one batch and answers each.
async fn run<T, R>(flush: Flush<T, R>, mut rx: mpsc::Receiver<(T, Reply<R>)>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<T>, Vec<Reply<R>>) = group.into_iter().unzip();
        match flush(items).await {
            Ok(outcomes) if outcomes.len() == replies.len() => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(outcomes) => fail_all(replies, &format!("{} outcomes", outcomes.len())),
            Err(e) => fail_all(replies, &e.to_string()),
        }
    }
}

fn fail_all<R>(replies: Vec<Reply<R>>, why: &str) {
    tracing::error!(error = why, "group commit failed");
    for reply in replies {
        let _ = reply.send(Err(StoreError::other(std::io::Error::other(why.to_string()))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_items_share_transactions_and_each_gets_its_outcome() {
        let groups = Arc::new(Mutex::new(Vec::<usize>::new()));
        let seen = groups.clone();
        let gc = Arc::new(GroupCommit::new(move |items: Vec<u32>| {
            let seen = seen.clone();
            Box::pin(async move {
                // A slow commit, so that requests pile up behind it.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                seen.lock().unwrap().push(items.len());
                Ok(items
                    .into_iter()
                    .map(|i| if i % 2 == 0 { RowOutcome::Inserted } else { RowOutcome::Unchanged })
                    .collect())
            }) as BoxFuture<'static, _>
        }));
        let tasks: Vec<_> = (0..200u32)
            .map(|i| {
                let gc = gc.clone();
                tokio::spawn(async move { (i, gc.submit(i).await.unwrap()) })
            })
            .collect();
        for t in tasks {
            let (i, outcome) = t.await.unwrap();
            let want = if i % 2 == 0 { RowOutcome::Inserted } else { RowOutcome::Unchanged };
            assert_eq!(outcome, want, "item {i}");
        }
        let groups = groups.lock().unwrap();
        assert_eq!(groups.iter().sum::<usize>(), 200);
        assert!(groups.len() < 50, "200 concurrent items took {} commits", groups.len());
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_waiting_item() {
        let gc: GroupCommit<u32> = GroupCommit::new(|_: Vec<u32>| {
            Box::pin(async { Err(StoreError::Invalid("disk full".into())) })
                as BoxFuture<'static, _>
        });
        let err = gc.submit(1).await.unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}

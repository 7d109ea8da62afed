//! The queue: Redis Streams with one consumer group, the engine Redis itself provides for
//! work queues. Units go on the stream `reelsmith:units`; each worker reads new ones with
//! `XREADGROUP` (the unit is then pending on that worker: its lease), keeps its lease with
//! `XCLAIM … JUSTID` while it renders (a heartbeat that resets the entry's idle time), and
//! acknowledges it when its result is in the store. A unit whose worker died stays pending
//! and idle; after the lease, the next worker looking for work takes it over with
//! `XAUTOCLAIM` (Redis counts the deliveries, which caps the retries). Each render has its
//! own stream of events (`reelsmith:render:<id>:events`: progress, done, failed) that its
//! coordinator follows, and a cancel flag (`reelsmith:render:<id>:cancel`) the workers
//! poll four times a second.

use std::time::Duration;

use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};

use super::unit::{Event, Unit};
use super::FarmError;

/// The stream of units.
const UNITS: &str = "reelsmith:units";
/// The consumer group of the workers.
const GROUP: &str = "workers";
/// How long a render's events and cancel flag are kept.
const KEEP_S: u64 = 24 * 3600;

/// A connection to the broker.
pub struct Broker {
    con: redis::Connection,
    at: String,
}

/// A unit handed to this worker.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The stream entry's id (what leases and acknowledgements name).
    pub id: String,
    /// The unit.
    pub unit: Unit,
    /// Which delivery this is (1: the first).
    pub count: u64,
}

impl Broker {
    /// Connects to `url` (`redis://HOST:PORT/DB`) and makes sure the workers' group exists.
    ///
    /// # Errors
    /// [`FarmError::Address`] for a malformed address, [`FarmError::Broker`] if Redis
    /// cannot be reached.
    pub fn connect(url: &str, timeout: Duration) -> Result<Broker, FarmError> {
        let client = redis::Client::open(url)
            .map_err(|e| FarmError::Address(format!("broker address: {e}")))?;
        let info = client.get_connection_info();
        let at = format!("{}/{}", info.addr(), info.redis_settings().db());
        let con = client
            .get_connection_with_timeout(timeout)
            .map_err(|source| FarmError::Broker {
                at: at.clone(),
                op: "cannot be reached",
                source,
            })?;
        let mut b = Broker { con, at };
        b.ensure_group()?;
        Ok(b)
    }

    /// Where the broker is, for messages: `host:port/db`.
    pub fn at(&self) -> &str {
        &self.at
    }

    fn err(&self, op: &'static str) -> impl FnOnce(redis::RedisError) -> FarmError {
        let at = self.at.clone();
        move |source| FarmError::Broker { at, op, source }
    }

    fn ensure_group(&mut self) -> Result<(), FarmError> {
        let made: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(UNITS)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query(&mut self.con);
        match made {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other.map_err(self.err("create the workers' group")),
        }
    }

    /// Puts `unit` on the queue.
    ///
    /// # Errors
    /// [`FarmError::Broker`].
    pub fn publish(&mut self, unit: &Unit) -> Result<(), FarmError> {
        let json = serde_json::to_string(unit).map_err(|e| FarmError::Message(e.to_string()))?;
        redis::cmd("XADD")
            .arg(UNITS)
            .arg("*")
            .arg("unit")
            .arg(json)
            .query::<String>(&mut self.con)
            .map_err(self.err("publish a unit"))?;
        Ok(())
    }

    /// The next unit for `worker`: first one whose worker has not renewed its lease for
    /// `lease` (taken over), else a new one, waiting up to `block` for it.
    ///
    /// # Errors
    /// [`FarmError::Broker`]; a unit that cannot be read is acknowledged (dropped) and
    /// reported as [`FarmError::Message`].
    pub fn next(
        &mut self,
        worker: &str,
        lease: Duration,
        block: Duration,
    ) -> Result<Option<Delivery>, FarmError> {
        let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(UNITS)
            .arg(GROUP)
            .arg(worker)
            .arg(lease.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(1)
            .query(&mut self.con)
            .map_err(self.err("take over a unit"))?;
        if let Some(entry) = claimed.claimed.into_iter().next() {
            return self.delivery(entry).map(Some);
        }
        let read: StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(worker)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(UNITS)
            .arg(">")
            .query(&mut self.con)
            .map_err(self.err("wait for a unit"))?;
        match read.keys.into_iter().flat_map(|k| k.ids).next() {
            Some(entry) => self.delivery(entry).map(Some),
            None => Ok(None),
        }
    }

    fn delivery(&mut self, entry: StreamId) -> Result<Delivery, FarmError> {
        let unit = entry
            .get::<String>("unit")
            .and_then(|json| serde_json::from_str::<Unit>(&json).ok());
        let Some(unit) = unit else {
            self.ack(&entry.id)?;
            return Err(FarmError::Message(format!("unit {} dropped", entry.id)));
        };
        let pending: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(UNITS)
            .arg(GROUP)
            .arg(&entry.id)
            .arg(&entry.id)
            .arg(1)
            .query(&mut self.con)
            .map_err(self.err("count a unit's deliveries"))?;
        let count = pending.ids.first().map_or(1, |p| p.times_delivered as u64);
        Ok(Delivery {
            id: entry.id,
            unit,
            count,
        })
    }

    /// Renews `worker`'s lease on the entry `id` (resets its idle time).
    ///
    /// # Errors
    /// [`FarmError::Broker`].
    pub fn renew(&mut self, worker: &str, id: &str) -> Result<(), FarmError> {
        redis::cmd("XCLAIM")
            .arg(UNITS)
            .arg(GROUP)
            .arg(worker)
            .arg(0)
            .arg(id)
            .arg("JUSTID")
            .query::<redis::Value>(&mut self.con)
            .map_err(self.err("renew a lease"))?;
        Ok(())
    }

    /// Acknowledges the entry `id` (its unit is finished) and removes it from the stream.
    ///
    /// # Errors
    /// [`FarmError::Broker`].
    pub fn ack(&mut self, id: &str) -> Result<(), FarmError> {
        redis::pipe()
            .cmd("XACK")
            .arg(UNITS)
            .arg(GROUP)
            .arg(id)
            .ignore()
            .cmd("XDEL")
            .arg(UNITS)
            .arg(id)
            .ignore()
            .query::<()>(&mut self.con)
            .map_err(self.err("acknowledge a unit"))
    }

    fn events_key(render: &str) -> String {
        format!("reelsmith:render:{render}:events")
    }

    fn cancel_key(render: &str) -> String {
        format!("reelsmith:render:{render}:cancel")
    }

    /// Tells `render`'s coordinator about a unit.
    ///
    /// # Errors
    /// [`FarmError::Broker`].
    pub fn tell(&mut self, render: &str, event: &Event) -> Result<(), FarmError> {
        let json = serde_json::to_string(event).map_err(|e| FarmError::Message(e.to_string()))?;
        let key = Self::events_key(render);
        redis::pipe()
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(100_000)
            .arg("*")
            .arg("event")
            .arg(json)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(KEEP_S)
            .ignore()
            .query::<()>(&mut self.con)
            .map_err(self.err("send an event"))
    }

    /// `render`'s events after `last` (an entry id; `0` for all), waiting up to `block` for
    /// one. `last` moves past what is returned.
    ///
    /// # Errors
    /// [`FarmError::Broker`]; an event that cannot be read is [`FarmError::Message`].
    pub fn events(
        &mut self,
        render: &str,
        last: &mut String,
        block: Duration,
    ) -> Result<Vec<Event>, FarmError> {
        let read: StreamReadReply = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(1000)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(Self::events_key(render))
            .arg(last.as_str())
            .query(&mut self.con)
            .map_err(self.err("follow the render's events"))?;
        let mut out = Vec::new();
        for entry in read.keys.into_iter().flat_map(|k| k.ids) {
            let json: Option<String> = entry.get("event");
            let event = json
                .as_deref()
                .and_then(|j| serde_json::from_str::<Event>(j).ok())
                .ok_or_else(|| FarmError::Message(format!("event {}", entry.id)))?;
            *last = entry.id;
            out.push(event);
        }
        Ok(out)
    }

    /// Cancels `render`: its units are dropped by the workers that take them, and those
    /// rendering one stop within a second.
    ///
    /// # Errors
    /// [`FarmError::Broker`].
    pub fn cancel(&mut self, render: &str) -> Result<(), FarmError> {
        redis::cmd("SET")
            .arg(Self::cancel_key(render))
            .arg(1)
            .arg("EX")
            .arg(KEEP_S)
            .query::<()>(&mut self.con)
            .map_err(self.err("cancel a render"))
    }

    /// Whether `render` was cancelled.
    ///
    /// # Errors
    /// [`FarmError::Broker`].
    pub fn cancelled(&mut self, render: &str) -> Result<bool, FarmError> {
        redis::cmd("EXISTS")
            .arg(Self::cancel_key(render))
            .query::<bool>(&mut self.con)
            .map_err(self.err("read a render's cancel flag"))
    }
}

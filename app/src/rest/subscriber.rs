//! The live streams' subscriber gauge, shared by every domain's feed.

/// Counts a live stream while it is open (`heimdall_sse_subscribers{stream}`).
pub struct Subscriber(&'static str);

impl Subscriber {
    pub fn new(stream: &'static str) -> Self {
        metrics::gauge!("heimdall_sse_subscribers", "stream" => stream).increment(1.0);
        Self(stream)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        metrics::gauge!("heimdall_sse_subscribers", "stream" => self.0).decrement(1.0);
    }
}

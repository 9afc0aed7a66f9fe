//! `posture run`, the nightly job, over simulated nights.

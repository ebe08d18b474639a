//! CreateImage jobs (spec §6): INIT → RUNNING → SUCCESS | FAIL, driven by the shared transition
//! policy, with the job's image following (queued → saving → active | killed). Jobs are data: their
//! phase is computed when they are read, filtered or checked.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::error::ims_message;
use crate::clock::format_seconds;
use crate::lifecycle::TransitionPolicy;

/// How a test has rigged a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JobFault {
    None,
    /// RUNNING from creation until forced.
    Stuck,
    /// Follows its policy but ends FAIL with this message.
    Fail(String),
}

/// A finished job's outcome.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobResult {
    pub success: bool,
    pub end_time: OffsetDateTime,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    Init,
    Running(f64),
    Success,
    Fail,
}

impl Phase {
    /// The image status this phase implies.
    pub fn image_status(self) -> &'static str {
        match self {
            Phase::Init => "queued",
            Phase::Running(_) => "saving",
            Phase::Success => "active",
            Phase::Fail => "killed",
        }
    }

    fn same_kind(self, other: Phase) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// One CreateImage job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub job_id: String,
    pub project_id: String,
    pub job_type: String,
    pub image_id: String,
    pub image_name: String,
    pub begin_time: OffsetDateTime,
    pub policy: TransitionPolicy,
    pub reads: u32,
    pub fault: JobFault,
    pub result: Option<JobResult>,
    /// The phase last written to the image (not state: recomputed on load).
    pub applied: Phase,
}

/// `YYYY-MM-DDThh:mm:ss.mmmZ`.
pub(crate) fn format_millis(at: OffsetDateTime) -> String {
    let seconds = format_seconds(at);
    format!("{}.{:03}Z", seconds.trim_end_matches('Z'), at.millisecond())
}

fn two_decimals(p: f64) -> f64 {
    (p * 100.0).floor() / 100.0
}

impl Job {
    /// Whether the job imports a file (its default failure code differs).
    pub fn file_import(&self) -> bool {
        self.job_type == "imsImportImageJob"
    }

    /// The phase at `now`.
    pub fn phase(&self, now: OffsetDateTime) -> Phase {
        if let Some(r) = &self.result {
            return if r.success {
                Phase::Success
            } else {
                Phase::Fail
            };
        }
        if self.fault == JobFault::Stuck {
            return Phase::Running(0.0);
        }
        match self.policy {
            TransitionPolicy::Immediate => Phase::Success,
            TransitionPolicy::Polls(n) => match self.reads {
                0 => Phase::Init,
                k => Phase::Running(two_decimals(f64::from(k) / f64::from(n + 1))),
            },
            TransitionPolicy::Time(d) => {
                let elapsed = (now - self.begin_time).as_seconds_f64();
                match elapsed / d.as_secs_f64().max(f64::MIN_POSITIVE) {
                    p if p <= 0.0 => Phase::Init,
                    p => Phase::Running(two_decimals(p.min(0.99))),
                }
            }
        }
    }

    /// Finishes the job at `end`: SUCCESS, or FAIL when a failure message is given or rigged.
    pub fn finish(&mut self, end: OffsetDateTime, fail: Option<String>) {
        let fail = fail.or(match &self.fault {
            JobFault::Fail(m) => Some(m.clone()),
            _ => None,
        });
        self.result = Some(match fail {
            None => JobResult {
                success: true,
                end_time: end,
                error_code: None,
                fail_reason: None,
            },
            Some(message) => {
                let (code, reason) = match ims_message(&message) {
                    Some(text) => (message.clone(), text.to_string()),
                    None => {
                        let code = if self.file_import() {
                            "IMG.0057"
                        } else {
                            "IMG.0014"
                        };
                        (code.to_string(), message.clone())
                    }
                };
                JobResult {
                    success: false,
                    end_time: end,
                    error_code: Some(code),
                    fail_reason: Some(reason),
                }
            }
        });
    }

    /// Finishes the job if its policy says it is done at `now` (not a read).
    pub fn advance(&mut self, now: OffsetDateTime) {
        if self.result.is_some() || self.fault == JobFault::Stuck {
            return;
        }
        match self.policy {
            TransitionPolicy::Immediate => self.finish(self.begin_time, None),
            TransitionPolicy::Time(d) => {
                let end =
                    self.begin_time + time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
                if now >= end {
                    self.finish(end, None);
                }
            }
            TransitionPolicy::Polls(_) => {}
        }
    }

    /// A status read: counts it and finishes a `polls:N` job on read N+1.
    pub fn read(&mut self, now: OffsetDateTime) {
        self.advance(now);
        if self.result.is_some() || self.fault == JobFault::Stuck {
            return;
        }
        if let TransitionPolicy::Polls(n) = self.policy {
            self.reads = self.reads.saturating_add(1);
            if self.reads > n {
                self.finish(now, None);
            }
        }
    }

    /// Whether the image already shows the job's phase at `now` ([`Job::sync_image`] would not
    /// change it).
    pub fn image_in_step(&self, now: OffsetDateTime) -> bool {
        self.phase(now).same_kind(self.applied)
    }

    /// Writes the phase to the image when it changed since the last write (so a status set through
    /// the control plane stays until the job's next phase change).
    pub fn sync_image(&mut self, image: &mut Map<String, Value>, now: OffsetDateTime) {
        let phase = self.phase(now);
        if phase.same_kind(self.applied) {
            return;
        }
        self.applied = phase;
        image.insert("status".into(), json!(phase.image_status()));
        if let Some(r) = &self.result {
            let end = format_seconds(r.end_time);
            image.insert("updated_at".into(), json!(end));
            if r.success {
                image.insert("active_at".into(), json!(end));
                image.insert("__image_size".into(), json!("2147483648"));
            }
        }
    }

    fn status_name(phase: Phase) -> &'static str {
        match phase {
            Phase::Init => "INIT",
            Phase::Running(_) => "RUNNING",
            Phase::Success => "SUCCESS",
            Phase::Fail => "FAIL",
        }
    }

    fn percent(phase: Phase) -> f64 {
        match phase {
            Phase::Init | Phase::Fail => 0.0,
            Phase::Running(p) => p,
            Phase::Success => 1.0,
        }
    }

    /// The ShowJob (`progress` false) or ShowJobProgress (`progress` true) body.
    pub fn view(&self, now: OffsetDateTime, progress: bool) -> Value {
        let phase = self.phase(now);
        let mut entities = Map::new();
        entities.insert("image_name".into(), json!(self.image_name));
        if phase == Phase::Success {
            entities.insert("image_id".into(), json!(self.image_id));
        }
        match (phase, progress) {
            (Phase::Fail, false) => {
                let r = self.result.as_ref();
                entities.insert(
                    "error_code".into(),
                    json!(r.and_then(|r| r.error_code.clone())),
                );
                entities.insert("error".into(), json!(r.and_then(|r| r.fail_reason.clone())));
            }
            _ => {
                entities.insert("process_percent".into(), json!(Self::percent(phase)));
            }
        }
        let result = self.result.as_ref();
        json!({
            "job_id": self.job_id,
            "job_type": self.job_type,
            "status": Self::status_name(phase),
            "begin_time": format_millis(self.begin_time),
            "end_time": result.map_or(String::new(), |r| format_millis(r.end_time)),
            "error_code": result.and_then(|r| r.error_code.clone()),
            "fail_reason": result.and_then(|r| r.fail_reason.clone()),
            "entities": entities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MANUAL_EPOCH;

    fn job(policy: TransitionPolicy) -> Job {
        Job {
            job_id: "j".into(),
            project_id: "p".into(),
            job_type: "imsImportImageJob".into(),
            image_id: "i".into(),
            image_name: "n".into(),
            begin_time: MANUAL_EPOCH,
            policy,
            reads: 0,
            fault: JobFault::None,
            result: None,
            applied: Phase::Init,
        }
    }

    #[test]
    fn polls_run_then_succeed_on_read_n_plus_one() {
        let mut j = job(TransitionPolicy::Polls(2));
        assert_eq!(j.phase(MANUAL_EPOCH), Phase::Init);
        j.read(MANUAL_EPOCH);
        assert_eq!(j.phase(MANUAL_EPOCH), Phase::Running(0.33));
        j.read(MANUAL_EPOCH);
        assert_eq!(j.phase(MANUAL_EPOCH), Phase::Running(0.66));
        j.read(MANUAL_EPOCH);
        assert_eq!(j.phase(MANUAL_EPOCH), Phase::Success);
    }

    #[test]
    fn time_policy_and_failures() {
        let mut j = job(TransitionPolicy::Time(std::time::Duration::from_secs(10)));
        assert_eq!(j.phase(MANUAL_EPOCH), Phase::Init);
        assert_eq!(
            j.phase(MANUAL_EPOCH + time::Duration::seconds(5)),
            Phase::Running(0.5)
        );
        j.advance(MANUAL_EPOCH + time::Duration::seconds(11));
        assert_eq!(
            j.result.as_ref().map(|r| r.end_time),
            Some(MANUAL_EPOCH + time::Duration::seconds(10))
        );
        let mut f = job(TransitionPolicy::Immediate);
        f.finish(MANUAL_EPOCH, Some("disk on fire".into()));
        let r = f.result.clone().unwrap();
        assert_eq!(
            (r.error_code.as_deref(), r.fail_reason.as_deref()),
            (Some("IMG.0057"), Some("disk on fire"))
        );
        let mut g = job(TransitionPolicy::Immediate);
        g.finish(MANUAL_EPOCH, Some("IMG.0014".into()));
        assert_eq!(
            g.result.unwrap().fail_reason.as_deref(),
            ims_message("IMG.0014")
        );
    }
}

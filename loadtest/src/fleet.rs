//! Worker processes of a load run (switch workers or pass-through baseline workers):
//! started, killed and stopped by pid, with the CPU time and peak memory each used.

use interlink_switch::config::KafkaConfig;
use interlink_switch::kafka::base_client_config;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Member {
    name: String,
    child: Child,
    /// CPU time at the last reading; a dead process keeps its last reading.
    cpu: Duration,
    peak_rss_kib: u64,
    alive: bool,
    /// When it was sent SIGTERM, if it was.
    terminated_at: Option<Instant>,
}

/// A member that exited: after SIGTERM (with how long it took), or on its own.
#[derive(Debug)]
pub struct Exited {
    pub name: String,
    pub status: std::process::ExitStatus,
    /// SIGTERM to exit; `None` when it exited on its own.
    pub drained_in: Option<Duration>,
}

/// The processes of one consumer group.
pub struct Fleet {
    kafka: KafkaConfig,
    group: String,
    log_dir: PathBuf,
    members: Vec<Member>,
}

impl Fleet {
    pub fn new(kafka: &KafkaConfig, group: &str, log_dir: PathBuf) -> Self {
        Self { kafka: kafka.clone(), group: group.into(), log_dir, members: Vec::new() }
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    /// Starts `command` as member `name`, its output in `<log_dir>/<name>.log`.
    pub fn spawn(&mut self, name: &str, mut command: Command) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.log_dir)?;
        let log = std::fs::File::create(self.log_dir.join(format!("{name}.log")))?;
        // A member dies with this process (killed, or a panic): no orphaned workers.
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).spawn()?;
        self.members.push(Member {
            name: name.into(),
            child,
            cpu: Duration::ZERO,
            peak_rss_kib: 0,
            alive: true,
            terminated_at: None,
        });
        Ok(())
    }

    pub fn live_members(&self) -> usize {
        self.members.iter().filter(|m| m.alive).count()
    }

    /// Waits until the group is stable with `members` members, every one of which
    /// has partitions, so that a run measures processing and not joining.
    pub fn wait_stable(&mut self, members: usize, timeout: Duration) -> anyhow::Result<()> {
        let admin: BaseConsumer = base_client_config(&self.kafka).create()?;
        let deadline = Instant::now() + timeout;
        loop {
            self.reap()?;
            let groups = admin.fetch_group_list(Some(&self.group), Duration::from_secs(5))?;
            let stable = groups.groups().iter().any(|g| {
                g.state() == "Stable"
                    && g.members().len() == members
                    && g.members().iter().all(|m| m.assignment().is_some_and(|a| a.len() > 8))
            });
            if stable {
                return Ok(());
            }
            if Instant::now() > deadline {
                anyhow::bail!("group {} not stable with {members} members within {timeout:?}", self.group);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Fails if a member exited on its own.
    fn reap(&mut self) -> anyhow::Result<()> {
        for m in self.members.iter_mut().filter(|m| m.alive) {
            if let Ok(Some(status)) = m.child.try_wait() {
                m.alive = false;
                anyhow::bail!("{} exited: {status} (see {}.log)", m.name, m.name);
            }
        }
        Ok(())
    }

    /// Reads CPU time and peak memory of the live members.
    fn sample_live(&mut self) {
        for m in self.members.iter_mut().filter(|m| m.alive) {
            sample(m);
        }
    }

    /// Total CPU time (user + system) the members have used so far.
    pub fn cpu_time(&mut self) -> Duration {
        self.sample_live();
        self.members.iter().map(|m| m.cpu).sum()
    }

    /// The largest resident set any member reached, in MiB.
    pub fn peak_rss_mib(&mut self) -> f64 {
        self.sample_live();
        self.members.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }

    /// SIGKILL: the member gets no chance to commit or leave the group.
    pub fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let m = self
            .members
            .iter_mut()
            .find(|m| m.alive && m.name == name)
            .ok_or_else(|| anyhow::anyhow!("no live member {name}"))?;
        sample(m);
        signal(&m.child, nix::sys::signal::Signal::SIGKILL)?;
        m.child.wait()?;
        m.alive = false;
        Ok(())
    }

    /// SIGTERM to one member: it drains (commits its open batch, leaves the group) and
    /// exits; [`Fleet::reap_exited`] tells when, and with what status.
    pub fn terminate(&mut self, name: &str) -> anyhow::Result<()> {
        let m = self
            .members
            .iter_mut()
            .find(|m| m.alive && m.name == name && m.terminated_at.is_none())
            .ok_or_else(|| anyhow::anyhow!("no live member {name}"))?;
        sample(m);
        signal(&m.child, nix::sys::signal::Signal::SIGTERM)?;
        m.terminated_at = Some(Instant::now());
        Ok(())
    }

    /// The members that have exited since the last call (after SIGTERM or on their
    /// own), without waiting; they are no longer live.
    pub fn reap_exited(&mut self) -> Vec<Exited> {
        let mut exited = Vec::new();
        for m in self.members.iter_mut().filter(|m| m.alive) {
            sample(m);
            if let Ok(Some(status)) = m.child.try_wait() {
                m.alive = false;
                let drained_in = m.terminated_at.map(|t| t.elapsed());
                exited.push(Exited { name: m.name.clone(), status, drained_in });
            }
        }
        exited
    }

    /// Names of the live members that have not been sent SIGTERM.
    pub fn running(&self) -> Vec<String> {
        self.members.iter().filter(|m| m.alive && m.terminated_at.is_none()).map(|m| m.name.clone()).collect()
    }

    /// How long ago a member was sent SIGTERM, while it is still running.
    pub fn draining_for(&self, name: &str) -> Option<Duration> {
        self.members.iter().find(|m| m.alive && m.name == name).and_then(|m| m.terminated_at).map(|t| t.elapsed())
    }

    /// SIGTERM to every member, then waits for each (SIGKILL after 30 s).
    pub fn stop_all(&mut self) {
        self.sample_live();
        for m in self.members.iter().filter(|m| m.alive) {
            let _ = signal(&m.child, nix::sys::signal::Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for m in self.members.iter_mut().filter(|m| m.alive) {
            while Instant::now() < deadline && matches!(m.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(m.child.try_wait(), Ok(None)) {
                let _ = m.child.kill();
                let _ = m.child.wait();
            }
            m.alive = false;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if self.live_members() > 0 {
            self.stop_all();
        }
    }
}

fn signal(child: &Child, signal: nix::sys::signal::Signal) -> anyhow::Result<()> {
    Ok(nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal)?)
}

fn sample(m: &mut Member) {
    if let Some(cpu) = process_cpu_time(m.child.id()) {
        m.cpu = cpu;
    }
    if let Some(rss) = process_peak_rss_kib(m.child.id()) {
        m.peak_rss_kib = m.peak_rss_kib.max(rss);
    }
}

/// User plus system CPU time of a process (all its threads), from `/proc/<pid>/stat`.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // state is field 3, utime 14 and stime 15 (counting from 1).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// Peak resident set size (`VmHWM`) of a process, in KiB.
pub fn process_peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_time_and_memory_of_this_process() {
        let pid = std::process::id();
        let before = process_cpu_time(pid).expect("/proc is readable");
        // Burn a little CPU so the reading moves.
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(100) {
            x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(7));
        }
        std::hint::black_box(x);
        let after = process_cpu_time(pid).unwrap();
        assert!(after > before, "{before:?} -> {after:?}");
        assert!(process_peak_rss_kib(pid).unwrap() > 0);
        assert_eq!(process_cpu_time(u32::MAX), None);
    }
}

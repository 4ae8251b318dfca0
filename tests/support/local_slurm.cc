#include "support/local_slurm.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <thread>

#include "support/mpirun.h"

extern char** environ;

namespace joulebench::testing {
namespace {

// A TCP port that was free a moment ago (the kernel's choice for port 0).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string Sbin(const std::string& program) {
  const std::string found = FindInPath(program);
  if (!found.empty()) return found;
  const std::string sbin = "/usr/sbin/" + program;
  return access(sbin.c_str(), X_OK) == 0 ? sbin : "";
}

std::string ShortHostname() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  std::string host = name;
  return host.substr(0, host.find('.'));
}

std::string Tail(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) {
    out += "  " + lines[i] + "\n";
  }
  return out;
}

}  // namespace

LocalSlurm::LocalSlurm() : node_(ShortHostname()) {
  const auto& d = dir_.path();
  const std::string munged = Sbin("munged");
  const std::string slurmctld = Sbin("slurmctld");
  const std::string slurmd = Sbin("slurmd");
  if (munged.empty() || slurmctld.empty() || slurmd.empty() || FindInPath("srun").empty()) {
    error_ =
        "munged, slurmctld, slurmd or srun not found: scripts/install-deps.sh installs munge, "
        "slurmctld, slurmd and slurm-client";
    return;
  }
  // munged wants its socket's directory searchable by all and its key private.
  chmod(d.c_str(), 0755);
  {
    std::ofstream key(d / "munge.key", std::ios::binary);
    std::random_device random;
    for (int i = 0; i < 1024; ++i) key.put(static_cast<char>(random() & 0xff));
  }
  chmod((d / "munge.key").c_str(), 0600);
  std::filesystem::create_directories(d / "state");
  std::filesystem::create_directories(d / "spool");
  const std::string user = getuid() == 0 ? "root" : std::to_string(getuid());
  {
    std::ofstream conf(d / "slurm.conf");
    conf << "ClusterName=jbtest\n"
         << "SlurmctldHost=" << node_ << "(127.0.0.1)\n"
         << "SlurmUser=" << user << "\nSlurmdUser=" << user << "\n"
         << "SlurmctldPort=" << FreePort() << "\nSlurmdPort=" << FreePort() << "\n"
         << "AuthType=auth/munge\nCredType=cred/munge\n"
         << "AuthInfo=socket=" << (d / "munge.sock").string() << "\n"
         << "StateSaveLocation=" << (d / "state").string() << "\n"
         << "SlurmdSpoolDir=" << (d / "spool").string() << "\n"
         << "SlurmctldPidFile=" << (d / "slurmctld.pid").string() << "\n"
         << "SlurmdPidFile=" << (d / "slurmd.pid").string() << "\n"
         << "SlurmctldLogFile=" << (d / "slurmctld.log").string() << "\n"
         << "SlurmdLogFile=" << (d / "slurmd.log").string() << "\n"
         << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nMpiDefault=none\n"
         << "ReturnToService=2\nSchedulerType=sched/builtin\n"
         << "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n"
         << "JobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n"
         << "NodeName=" << node_
         << " NodeAddr=127.0.0.1 CPUs=" << std::max(1u, std::thread::hardware_concurrency())
         << " RealMemory=1000 State=UNKNOWN\n"
         << "PartitionName=debug Nodes=" << node_
         << " Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8\n";
  }
  Start(
      munged,
      {"-F", "-f", "--socket=" + (d / "munge.sock").string(),
       "--key-file=" + (d / "munge.key").string(), "--log-file=" + (d / "munged.log").string(),
       "--pid-file=" + (d / "munged.pid").string(), "--seed-file=" + (d / "munged.seed").string()},
      "munged.out");
  for (int i = 0; i < 100 && !std::filesystem::exists(d / "munge.sock"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Start(slurmctld, {"-D", "-c", "-i"}, "slurmctld.out");
  Start(slurmd, {"-D", "-c"}, "slurmd.out");
  for (int i = 0; i < 120; ++i) {
    const ProcessResult state = Run("sinfo", {"-h", "-o", "%T"});
    if (state.exit_code == 0 && state.out.rfind("idle", 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  error_ = "the local Slurm node did not become idle within 30 s\n" + Logs();
}

LocalSlurm::~LocalSlurm() {
  for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) kill(*it, SIGTERM);
  for (pid_t pid : daemons_) {
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      if (i == 99) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

pid_t LocalSlurm::Start(const std::string& program, const std::vector<std::string>& args,
                        const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = (dir_.path() / log).string();
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> storage{program};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = {"SLURM_CONF=" + (dir_.path() / "slurm.conf").string()};
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("SLURM_", 0) != 0) env_storage.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0) {
    daemons_.push_back(pid);
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

std::vector<std::string> LocalSlurm::Environment() const {
  std::vector<std::string> env = MpirunEnvironment();
  env.push_back("SLURM_CONF=" + (dir_.path() / "slurm.conf").string());
  return env;
}

ProcessResult LocalSlurm::Run(const std::string& client, const std::vector<std::string>& args,
                              const std::vector<std::string>& env) const {
  std::vector<std::string> all = Environment();
  all.insert(all.end(), env.begin(), env.end());
  return RunProcess(FindInPath(client), args, all);
}

std::string LocalSlurm::Logs() const {
  std::string out;
  for (const char* log :
       {"munged.out", "slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out"}) {
    out += std::string(log) + ":\n" + Tail(dir_.path() / log);
  }
  return out;
}

}  // namespace joulebench::testing

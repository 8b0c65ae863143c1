package dev.ebbtide.yarn;

import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.resourcemanager.rmnode.RMNode;
import org.apache.hadoop.yarn.webapp.util.WebAppUtils;

/**
 * One ResourceManager (serving the YARN Services REST API) in this JVM and one NodeManager in a
 * child JVM (NodeManagerMain), set up the way Hadoop's own yarn-service tests do
 * (ServiceTestUtils.setupInternal): a local ZooKeeper for the service registry, the local file
 * system as the cluster FS, small allocations.
 *
 * The service AM is a separate JVM launched by the NodeManager. Because the cluster sets
 * yarn.is.minicluster=true, the Services API (in this JVM) hands the AM this JVM's
 * java.class.path, so this JVM must be started with plain {@code java -cp} (start.mjs does). The
 * AM and the NodeManager read the cluster's addresses from the yarn-site.xml that this class
 * writes into {@code --conf-dir}, the first classpath entry.
 *
 * Prints {@code harness-ready <rm web host:port>} on stdout once the NodeManager has registered,
 * then runs until the JVM is asked to exit; the shutdown hook stops the NodeManager (which kills
 * its containers), the ResourceManager and ZooKeeper. The NodeManager's log is DIR/nm.log.
 */
public final class YarnHarness {
  public static void main(String[] args) {
    try {
      run(Args.parse(args));
    } catch (Throwable t) {
      // ZooKeeper's and Hadoop's non-daemon threads would keep a half-started JVM alive.
      t.printStackTrace();
      System.out.println("harness-failed " + t);
      System.out.flush();
      System.exit(1);
    }
  }

  private static void run(Args a) throws Exception {
    File dir = new File(a.dir).getAbsoluteFile();
    Files.createDirectories(dir.toPath());
    File confDir = new File(a.confDir).getAbsoluteFile();
    Files.createDirectories(confDir.toPath());
    // Any yarn-site.xml from an earlier run would be read by the new cluster's configuration.
    new File(confDir, "yarn-site.xml").delete();

    File zkDir = new File(dir, "zk");
    Files.createDirectories(zkDir.toPath());
    // Bound to loopback: without clientPortAddress ZooKeeper listens on every interface.
    Map<String, Object> zkProps = new HashMap<>();
    zkProps.put("clientPortAddress", "127.0.0.1");
    InstanceSpec zkSpec = new InstanceSpec(zkDir, -1, -1, -1, false, 1, 2000, 100, zkProps, "127.0.0.1");
    TestingServer zk = new TestingServer(zkSpec, true);

    YarnConfiguration conf = new YarnConfiguration();
    conf.set("fs.defaultFS", "file:///");
    conf.setBoolean("yarn.webapp.api-service.enable", true);
    conf.set("yarn.service.base.path", new File(dir, "services").getAbsolutePath());
    conf.set("yarn.log.dir", new File(dir, "logs").getAbsolutePath());
    conf.set("hadoop.tmp.dir", new File(dir, "tmp").getAbsolutePath());
    conf.set(YarnConfiguration.RM_ZK_ADDRESS, zk.getConnectString());
    conf.set("hadoop.registry.zk.quorum", zk.getConnectString());
    // user.name= on web requests (pseudo authentication), as on a non-secure cluster.
    conf.set("hadoop.http.filter.initializers",
        "org.apache.hadoop.security.AuthenticationFilterInitializer,"
            + "org.apache.hadoop.security.HttpCrossOriginFilterInitializer");
    conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
    conf.setLong(YarnConfiguration.DISPATCHER_DRAIN_EVENTS_TIMEOUT, 1000);
    conf.set(YarnConfiguration.NM_AUX_SERVICES, "");
    conf.setBoolean(YarnConfiguration.TIMELINE_SERVICE_ENABLED, false);
    conf.setInt(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 100);
    conf.setLong(YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 0);
    // Fast heartbeats: containers are assigned on NM heartbeats.
    conf.setLong(YarnConfiguration.RM_NM_HEARTBEAT_INTERVAL_MS, 300);
    conf.setLong("yarn.service.readiness-check-interval.seconds", 1);

    // The service AM: Java 17 needs the --add-opens of HADOOP-19310 for Hadoop 3.4.
    conf.setLong("yarn.service.am-resource.memory", a.amMemoryMb);
    conf.set("yarn.service.am.java.opts", "-Xmx" + (a.amMemoryMb * 2 / 3) + "m " + a.addOpens);
    conf.set(YarnConfiguration.NM_ADMIN_USER_ENV, "JDK_JAVA_OPTIONS=" + a.addOpens);

    // Queues: "default" takes most of the node; "small" is capped so that it fills up (the
    // capacity-limited tests submit there).
    conf.set("yarn.scheduler.capacity.root.queues", "default,small");
    conf.set("yarn.scheduler.capacity.root.default.capacity", String.valueOf(100 - a.smallQueuePercent));
    conf.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
    conf.set("yarn.scheduler.capacity.root.small.capacity", String.valueOf(a.smallQueuePercent));
    conf.set("yarn.scheduler.capacity.root.small.maximum-capacity", String.valueOf(a.smallQueuePercent));
    conf.set("yarn.scheduler.capacity.root.small.user-limit-factor", "100");
    conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");

    // The ResourceManager only; the NodeManager runs in a JVM of its own (NodeManagerMain says
    // why) so that its web server, which gives finished containers' exit statuses, works too.
    MiniYARNCluster cluster = new MiniYARNCluster("ebbtide-yarn", 1, 0, 1, 1);
    AtomicReference<Process> nm = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // The NodeManager first: stopping it kills its containers and tells the RM.
      stopNodeManager(nm.get());
      try {
        cluster.stop();
      } catch (Throwable t) {
        t.printStackTrace();
      }
      try {
        zk.close();
      } catch (Throwable t) {
        t.printStackTrace();
      }
      stopped.countDown();
    }, "harness-shutdown"));

    cluster.init(conf);
    cluster.start();

    Configuration live = cluster.getConfig();
    // Everything the AM and the NodeManager need to reach this cluster (RM addresses with their
    // real ports, ZK, the settings above).
    File yarnSite = new File(confDir, "yarn-site.xml");
    File tmp = new File(confDir, "yarn-site.xml.tmp");
    try (OutputStream os = new FileOutputStream(tmp)) {
      live.writeXml(os);
    }
    Files.move(tmp.toPath(), yarnSite.toPath(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);

    nm.set(startNodeManager(a, dir));
    waitForNodeManager(cluster, nm.get(), new File(dir, "nm.log"));

    String web = WebAppUtils.getRMWebAppURLWithoutScheme(live);
    System.out.println("harness-ready " + web);
    System.out.flush();
    stopped.await();
  }

  /** Same java, same classpath (the conf dir with yarn-site.xml first), same --add-opens. */
  private static Process startNodeManager(Args a, File dir) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    for (String opt : a.addOpens.trim().split("\\s+")) if (!opt.isEmpty()) cmd.add(opt);
    cmd.addAll(List.of("-Xmx512m", "-Djava.net.preferIPv4Stack=true",
        "-cp", System.getProperty("java.class.path"),
        NodeManagerMain.class.getName(),
        "--dir", new File(dir, "nm").getAbsolutePath(),
        "--nm-memory-mb", String.valueOf(a.nmMemoryMb),
        "--nm-vcores", String.valueOf(a.nmVcores)));
    File log = new File(dir, "nm.log");
    return new ProcessBuilder(cmd)
        .directory(dir)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
        // stdin stays a pipe from this JVM: NodeManagerMain exits when it closes.
        .start();
  }

  private static void stopNodeManager(Process p) {
    if (p == null || !p.isAlive()) return;
    p.destroy(); // SIGTERM: NodeManagerMain's hook stops the NodeManager
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
    }
  }

  /** Until the RM lists the node with its web port (the NodeManager registers after its web server starts). */
  private static void waitForNodeManager(MiniYARNCluster cluster, Process nm, File log) throws Exception {
    for (int i = 0; i < 1200; i++) {
      if (!nm.isAlive()) {
        throw new IllegalStateException("the NodeManager JVM exited (" + nm.exitValue() + ") before it registered; see " + log);
      }
      for (RMNode node : cluster.getResourceManager().getRMContext().getRMNodes().values()) {
        if (node.getHttpPort() > 0) return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the NodeManager did not register with the ResourceManager within 120s; see " + log);
  }

  private static final class Args {
    String dir;
    String confDir;
    int nmMemoryMb = 4096;
    int nmVcores = 8;
    int amMemoryMb = 512;
    int smallQueuePercent = 25;
    String addOpens = "";

    static Args parse(String[] argv) {
      Args a = new Args();
      for (int i = 0; i < argv.length; i++) {
        String k = argv[i];
        String v = i + 1 < argv.length ? argv[i + 1] : null;
        switch (k) {
          case "--dir": a.dir = v; i++; break;
          case "--conf-dir": a.confDir = v; i++; break;
          case "--nm-memory-mb": a.nmMemoryMb = Integer.parseInt(v); i++; break;
          case "--nm-vcores": a.nmVcores = Integer.parseInt(v); i++; break;
          case "--am-memory-mb": a.amMemoryMb = Integer.parseInt(v); i++; break;
          case "--small-queue-percent": a.smallQueuePercent = Integer.parseInt(v); i++; break;
          case "--add-opens": a.addOpens = v; i++; break;
          default: throw new IllegalArgumentException("unknown argument " + k);
        }
      }
      if (a.dir == null || a.confDir == null) throw new IllegalArgumentException("--dir and --conf-dir are required");
      return a;
    }
  }
}

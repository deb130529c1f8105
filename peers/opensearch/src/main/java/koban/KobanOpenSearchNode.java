package koban;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch for koban's tests, in one JVM started from a classpath of Maven Central jars.
 *
 * <p>It builds a plain {@link Node} rather than going through the distribution's Bootstrap: no security
 * manager, jar-hell or bootstrap checks, which all assume the tarball layout. (The test framework's
 * MockNode works too but drags randomizedtesting-runner in, which must then be excluded; see docs/logs.md.)
 *
 * <p>Env: OS_HOME (a fresh temp dir if unset), OS_HTTP_PORT (default 9200). Arguments "key=value" override
 * any node setting. Prints "READY http://127.0.0.1:PORT" once the cluster is green; SIGTERM closes the node.
 */
public final class KobanOpenSearchNode {

    /** Node's constructor that takes plugin classes from the classpath is protected. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment env, List<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        long started = System.nanoTime();
        String homeEnv = System.getenv("OS_HOME");
        Path home = homeEnv != null ? Files.createDirectories(Path.of(homeEnv)) : Files.createTempDirectory("koban-os-");
        Settings.Builder settings = Settings.builder()
            .put("cluster.name", "koban-test")
            .put("node.name", "koban-node-0")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", System.getenv().getOrDefault("OS_HTTP_PORT", "9200"))
            .put("transport.port", "9300-9399")
            .put("discovery.type", "single-node")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // Test machines often have little free disk; the watermarks would make indices read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("expected key=value, got " + arg);
            settings.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Environment env = InternalSettingsPreparer.prepareEnvironment(settings.build(), Map.of(), null, () -> "koban-node-0");
        Node node = new ClasspathNode(env, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, "koban-os-shutdown"));
        node.start();
        node.client().admin().cluster().prepareHealth().setWaitForGreenStatus().get();
        // One node: new indices must get 0 replicas to be green. Honoured only as a persistent cluster
        // setting, not as a node setting.
        node.client().admin().cluster().prepareUpdateSettings()
            .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0)).get();
        int port = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress().getPort();
        System.out.printf("READY http://127.0.0.1:%d (%.1fs, home=%s)%n", port, (System.nanoTime() - started) / 1e9, home);
        System.out.flush();
        Thread.currentThread().join();
    }
}

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local as its own main class does, but listening on one address instead of all.
 *
 * <p>DynamoDB Local has no option for the bind address (its {@code -help} lists port, storage,
 * CORS and telemetry only) and builds its Jetty server with {@code new Server(port)}, whose one
 * connector binds the wildcard address; Jetty reads no system property for it either. So this
 * builds the server through DynamoDB Local's own {@code ServerRunner} (same command-line options),
 * sets the host on that connector before {@code start()} binds it, and refuses to start if the
 * server is not shaped as expected (a DynamoDB Local release that changed it must not silently
 * listen everywhere again).
 *
 * <p>Usage: {@code java -Ddynauthn.dynamodbLocal.host=127.0.0.1 -cp DynamoDBLocal.jar:<this dir>
 * LoopbackDynamoDbLocal <DynamoDB Local options>}. The compiled class is committed next to this
 * file so that a machine with only a JRE can run it; after editing, rebuild it with
 * {@code npm run build:dynamodb-local-launcher}.
 */
public final class LoopbackDynamoDbLocal {
  private static final String HOST_PROPERTY = "dynauthn.dynamodbLocal.host";

  public static void main(String[] args) throws Exception {
    String host = System.getProperty(HOST_PROPERTY);
    if (host == null || host.isEmpty()) throw new IllegalArgumentException("set -D" + HOST_PROPERTY);

    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
    serverField.setAccessible(true);
    Connector[] connectors = ((Server) serverField.get(proxy)).getConnectors();
    if (connectors.length != 1 || !(connectors[0] instanceof ServerConnector)) {
      throw new IllegalStateException("DynamoDB Local's Jetty server has an unexpected shape; not starting it");
    }
    ((ServerConnector) connectors[0]).setHost(host);
    proxy.start();
  }
}

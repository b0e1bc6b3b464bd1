using Xunit;

namespace Monitor.TestUtilities;

/// <summary>
/// Endpoints of the real servers, from the MONITOR_TEST_* variables that <c>test.sh</c> exports
/// after <c>deploy/stack.sh up</c>. Missing servers fail the test under CI or the README's test
/// command (MONITOR_TEST_REQUIRE_STACK=1); only a developer running one project by hand gets a skip.
/// </summary>
public static class StackEnvironment
{
    public static string Kafka => Require("MONITOR_TEST_KAFKA");
    public static string? KafkaControl => Environment.GetEnvironmentVariable("MONITOR_TEST_KAFKA_CONTROL") is { Length: > 0 } v ? v : null;
    public static string Etcd => Require("MONITOR_TEST_ETCD");
    public static string Influx => Require("MONITOR_TEST_INFLUX");
    public static string MariaDb => Require("MONITOR_TEST_MARIADB");

    public static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase) ||
        Environment.GetEnvironmentVariable("MONITOR_TEST_REQUIRE_STACK") == "1";

    private static string Require(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }
        var message = $"{name} is not set: start the stack with `deploy/stack.sh up` and source .state/stack/endpoints.env, or run ./test.sh";
        if (Required)
        {
            throw new InvalidOperationException(message);
        }
        Assert.Skip(message);
        return "";
    }
}

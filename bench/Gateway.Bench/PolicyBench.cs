using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gateway.Core.Policy;

/// <summary>
/// Cost of one policy decision over N compiled rules (<c>-- policy [--rules N]</c>): rules that match the server and
/// tool but whose argument condition does not hold, so every rule is evaluated down to its condition (the worst case).
/// </summary>
internal static class PolicyBench
{
    public static void Run(int rules)
    {
        var engine = new PolicyEngine(Enumerable.Range(0, rules).Select(i => new PolicyRule
        {
            Name = "rule-" + i.ToString(CultureInfo.InvariantCulture),
            Effect = (PolicyEffect)(i % 3),
            Servers = ["pay*"],
            Tools = ["transfer", "refund_*"],
            Classes = [AccessClass.Write, AccessClass.Destructive],
            Conditions = [new ArgumentCondition("amount", ConditionOperator.GreaterThan, JsonSerializer.SerializeToElement(1_000_000 + i))],
        }));
        var arguments = JsonDocument.Parse("""{"amount":250,"currency":"EUR"}""").RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        var input = new PolicyInput("alice", ["finance"], "payments", "transfer", AccessClass.Write, arguments);

        for (var i = 0; i < 1_000; i++)
        {
            engine.Evaluate(input);
        }

        const int iterations = 20_000;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        PolicyDecision last = default;
        for (var i = 0; i < iterations; i++)
        {
            last = engine.Evaluate(input);
        }

        watch.Stop();
        var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine($"policy: {rules} rules, {iterations} decisions: {watch.Elapsed.TotalMicroseconds / iterations:0.00} µs per decision, {(double)bytes / iterations:0.0} bytes allocated per decision (decision: {last.Effect}, {last.Reason})");
    }
}

using Gateway.Web.Hosting.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Microsoft.Extensions.Logging;

/// <summary>Console logging with <see cref="EscapingConsoleFormatter"/>, unless the configuration names another formatter.</summary>
internal static class GatewayLoggingExtensions
{
    public static ILoggingBuilder AddGatewayConsole(this ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.AddConsoleFormatter<EscapingConsoleFormatter, ConsoleFormatterOptions>();
        if (configuration["Logging:Console:FormatterName"] is null)
        {
            logging.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = EscapingConsoleFormatter.Name);
        }

        return logging;
    }
}

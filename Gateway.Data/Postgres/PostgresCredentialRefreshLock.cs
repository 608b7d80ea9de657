using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Credentials;
using Npgsql;

namespace Gateway.Data.Postgres;

/// <summary>
/// The refresh lock of instances sharing a PostgreSQL database: a transaction-scoped advisory lock on a connection of
/// its own, held while the instance refreshes (one token request, bounded by its timeout), released by the rollback
/// that ends it, or by the server when the instance dies.
/// </summary>
internal sealed class PostgresCredentialRefreshLock(string connectionString) : ICredentialRefreshLock
{
    public async ValueTask<IAsyncDisposable> AcquireAsync(string chain, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                take.Parameters.AddWithValue("key", Key(chain));
                await take.ExecuteNonQueryAsync(cancellationToken);
            }

            return new Held(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A 64-bit key of the chain's name, apart from the audit chain's lock by its prefix.</summary>
    internal static long Key(string chain) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("credential-refresh\n" + chain)), 0);

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}

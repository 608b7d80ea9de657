using Gateway.Core.Agents;
using Gateway.Core.Grants;

namespace Gateway.Tests.Core;

public sealed class ApiKeysTests
{
    [Fact]
    public void Generate_HasPrefixLengthAndValidChecksum()
    {
        var key = ApiKeys.Generate();
        Assert.StartsWith("mgw_", key, StringComparison.Ordinal);
        Assert.Equal(ApiKeys.Length, key.Length);
        Assert.True(ApiKeys.HasValidChecksum(key));
        Assert.NotEqual(key, ApiKeys.Generate());
    }

    [Fact]
    public void HasValidChecksum_DetectsEverySingleCharacterTypo()
    {
        var key = ApiKeys.Generate();
        for (var i = 4; i < key.Length; i++)
        {
            if (key[i] == '_')
            {
                continue;
            }

            var typo = key[..i] + (key[i] == 'a' ? 'b' : 'a') + key[(i + 1)..];
            Assert.False(ApiKeys.HasValidChecksum(typo), $"typo at {i} not detected");
        }
    }

    [Fact]
    public void Hash_IsSha256Hex_AndHintRevealsOnlyAPrefix()
    {
        var key = ApiKeys.Generate();
        var hash = ApiKeys.Hash(key);
        Assert.Equal(64, hash.Length);
        Assert.DoesNotContain(key[4..], hash, StringComparison.Ordinal);
        Assert.Equal(key[..12] + "…", ApiKeys.Hint(key));
    }

    [Fact]
    public void AgentDirectory_AuthenticatesActiveKeysOnly()
    {
        var key = ApiKeys.Generate();
        var alice = new AgentIdentity(1, "alice", GrantSet.None);
        var directory = new AgentDirectory([(alice, new[] { ApiKeys.Hash(key), ApiKeys.Hash("configured-key-123456") })]);

        Assert.Same(alice, directory.Authenticate(key));
        Assert.Same(alice, directory.Authenticate("configured-key-123456"));
        Assert.Same(alice, directory.FindById(1));
        Assert.Null(directory.Authenticate(ApiKeys.Generate()));
        Assert.Null(directory.Authenticate(key[..^1] + (key[^1] == 'a' ? 'b' : 'a')));
        Assert.Null(AgentDirectory.Empty.Authenticate(key));
    }
}

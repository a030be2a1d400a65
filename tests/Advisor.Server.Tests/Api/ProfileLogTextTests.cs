using Advisor.Server.Api;
using Advisor.V1;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Advisor.Server.Tests.Api;

/// <summary>The classification log's profile text: the hand-written path writes what the protobuf JSON formatter writes.</summary>
public sealed class ProfileLogTextTests
{
    private static readonly IList<FieldDescriptor> Fields = BuyerProfile.Descriptor.Fields.InFieldNumberOrder();

    private static readonly Gen<double> Numbers = Gen.OneOf(
        Gen.Int[0, 100_000].Select(i => (double)i),
        Gen.Long[0, 999_999_999_999_999].Select(l => (double)l),
        Gen.Long[999_999_999_990_000, 1_000_000_000_010_000].Select(l => (double)l),
        Gen.Double,
        Gen.Double[0, 1200],
        Gen.OneOf<double>([double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e21, 0.1, 123456789.125]));

    private static readonly Gen<string> Texts = Gen.OneOf(
        Gen.OneOf<string>(["", "law", "retail", "Financial services", "a-b_c.d,e 9"]),
        Gen.String,
        Gen.Char["\"\\<>&='\u2028\u00e9\t\n/"].Array[0, 6].Select(c => new string(c)));

    /// <summary>Every field of the message set or left alone at random, through the descriptor, so a field added later is covered too.</summary>
    private static readonly Gen<BuyerProfile> Profiles = Gen.Select(
        Gen.Bool.Array[Fields.Count], Numbers.Array[Fields.Count], Gen.Bool.Array[Fields.Count], Gen.Int[-1, 7].Array[Fields.Count], Texts.Array[Fields.Count],
        (present, numbers, flags, enums, texts) =>
        {
            var profile = new BuyerProfile();
            for (var i = 0; i < Fields.Count; i++)
            {
                if (!present[i])
                {
                    continue;
                }

                var field = Fields[i];
                object value = field.FieldType switch
                {
                    FieldType.Double => numbers[i],
                    FieldType.Bool => flags[i],
                    FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, enums[i]),
                    FieldType.String => texts[i],
                    _ => throw new InvalidOperationException($"BuyerProfile.{field.Name} is a {field.FieldType}: teach this generator and ProfileLogText about it"),
                };
                field.Accessor.SetValue(profile, value);
            }

            return profile;
        });

    [Fact]
    public void Writes_what_the_json_formatter_writes() =>
        Profiles.Sample(profile => ProfileLogText.Format(profile).ShouldBe(JsonFormatter.Default.Format(profile)), iter: 20_000);

    [Fact]
    public void A_usual_profile_takes_the_hand_written_path()
    {
        var profile = new BuyerProfile
        {
            PurchasesPerYear = 12,
            RelationshipMonths = 30.5,
            Agreement = AgreementStatus.Active,
            Retainer = true,
            Offering = Offering.ProfessionalService,
            PersonalisedWork = false,
            TwoWayCommunication = true,
            PriceFocused = false,
            DedicatedContact = true,
            TrustBased = true,
            Industry = "law",
            Market = Market.B2B,
            MonthsSinceLastContact = 0,
        };
        ProfileLogText.TryFormat(profile).ShouldBe(JsonFormatter.Default.Format(profile));
        ProfileLogText.TryFormat(new BuyerProfile()).ShouldBe("{ }");
    }
}

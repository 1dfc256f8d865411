using System.Text;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

[TestFixture]
public sealed class ManifestTests
{
    private static readonly string ConfigDigest = Digest.Sha256("config"u8).ToString();
    private static readonly string Layer1 = Digest.Sha256("layer-1"u8).ToString();
    private static readonly string Layer2 = Digest.Sha256("layer-2"u8).ToString();

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static string ImageJson(string mediaType, string configType, string layerType) => $$"""
        {
          "schemaVersion": 2,
          "mediaType": "{{mediaType}}",
          "config": { "mediaType": "{{configType}}", "digest": "{{ConfigDigest}}", "size": 6 },
          "layers": [
            { "mediaType": "{{layerType}}", "digest": "{{Layer1}}", "size": 7 },
            { "mediaType": "{{layerType}}", "digest": "{{Layer2}}", "size": 7, "annotations": { "org.example.note": "second" } }
          ]
        }
        """;

    [Test]
    public void Oci_image_manifest_lists_config_then_layers_and_keeps_the_bytes()
    {
        var bytes = Bytes(ImageJson(MediaTypes.OciManifest, "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"));

        var m = Manifest.Parse(bytes, null, "test");

        Assert.That(m.MediaType, Is.EqualTo(MediaTypes.OciManifest));
        Assert.That(m.Bytes, Is.SameAs(bytes));
        Assert.That(m.Digest, Is.EqualTo(Digest.Sha256(bytes)));
        Assert.That(m.Config!.Digest.ToString(), Is.EqualTo(ConfigDigest));
        Assert.That(m.Blobs.Select(b => b.Digest.ToString()), Is.EqualTo(new[] { ConfigDigest, Layer1, Layer2 }));
        Assert.That(m.Blobs.Select(b => b.Size), Is.EqualTo(new long[] { 6, 7, 7 }));
        Assert.That(m.Blobs[2].Annotations!["org.example.note"], Is.EqualTo("second"));
        Assert.That(m.Manifests, Is.Empty);
        Assert.That(m.ToDescriptor(), Is.EqualTo(new Descriptor(MediaTypes.OciManifest, m.Digest, bytes.Length)));
    }

    [Test]
    public void Docker_v2_image_manifest_is_read()
    {
        var bytes = Bytes(ImageJson(MediaTypes.DockerManifest, "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"));

        var m = Manifest.Parse(bytes, MediaTypes.DockerManifest, "test");

        Assert.That(m.MediaType, Is.EqualTo(MediaTypes.DockerManifest));
        Assert.That(m.Blobs, Has.Count.EqualTo(3));
        Assert.That(m.Config!.MediaType, Is.EqualTo("application/vnd.docker.container.image.v1+json"));
    }

    [TestCase(MediaTypes.OciIndex)]
    [TestCase(MediaTypes.DockerManifestList)]
    public void Index_lists_its_children_with_platforms(string mediaType)
    {
        var a = Digest.Sha256("amd64"u8);
        var b = Digest.Sha256("arm64"u8);
        var bytes = Bytes($$"""
            {"schemaVersion":2,"mediaType":"{{mediaType}}","manifests":[
              {"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{a}}","size":500,"platform":{"os":"linux","architecture":"amd64"} },
              {"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{b}}","size":501,"platform":{"os":"linux","architecture":"arm64","variant":"v8"} }
            ]}
            """);

        var m = Manifest.Parse(bytes, null, "test");

        Assert.That(m.MediaType, Is.EqualTo(mediaType));
        Assert.That(m.Blobs, Is.Empty);
        Assert.That(m.Config, Is.Null);
        Assert.That(m.Manifests.Select(d => (d.Digest, d.Size, d.Platform)), Is.EqualTo(new[]
        {
            (a, 500L, (string?)"linux/amd64"),
            (b, 501L, (string?)"linux/arm64/v8"),
        }));
    }

    [Test]
    public void An_oci_document_without_mediaType_is_known_by_its_shape_or_the_header()
    {
        var image = Bytes($$"""{"schemaVersion":2,"config":{"mediaType":"x","digest":"{{ConfigDigest}}","size":6},"layers":[]}""");
        var index = Bytes("""{"schemaVersion":2,"manifests":[]}""");

        Assert.That(Manifest.Parse(image, null, "t").MediaType, Is.EqualTo(MediaTypes.OciManifest));
        Assert.That(Manifest.Parse(index, "application/json", "t").MediaType, Is.EqualTo(MediaTypes.OciIndex));
        Assert.That(Manifest.Parse(index, MediaTypes.DockerManifestList + "; charset=utf-8", "t").MediaType, Is.EqualTo(MediaTypes.DockerManifestList));
    }

    [Test]
    public void Subject_and_artifactType_are_kept()
    {
        var subject = Digest.Sha256("subject"u8);
        var bytes = Bytes($$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","artifactType":"application/vnd.example.sbom",
             "config":{"mediaType":"{{MediaTypes.OciEmpty}}","digest":"{{ConfigDigest}}","size":2},"layers":[],
             "subject":{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{subject}}","size":10} }
            """);

        var m = Manifest.Parse(bytes, null, "t");

        Assert.That(m.ArtifactType, Is.EqualTo("application/vnd.example.sbom"));
        Assert.That(m.Subject!.Digest, Is.EqualTo(subject));
    }

    [Test]
    public void Docker_schema_1_is_refused_with_the_fix()
    {
        var bytes = Bytes("""{"schemaVersion":1,"name":"app","tag":"v1","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}""");

        var ex = Assert.Catch<PromotionException>(() => Manifest.Parse(bytes, "application/vnd.docker.distribution.manifest.v1+prettyjws", "reg/app:v1"))!;

        Assert.That(ex.Message, Does.Contain("reg/app:v1"));
        Assert.That(ex.Message, Does.Contain("schema 1"));
        Assert.That(ex.Message, Does.Contain("re-push the image"));
    }

    [Test]
    public void An_unknown_media_type_is_refused_naming_it()
    {
        var bytes = Bytes("""{"schemaVersion":2,"mediaType":"application/vnd.example.thing+json","layers":[]}""");

        var ex = Assert.Catch<PromotionException>(() => Manifest.Parse(bytes, null, "reg/app:v1"))!;

        Assert.That(ex.Message, Does.Contain("'application/vnd.example.thing+json'"));
        Assert.That(ex.Message, Does.Contain("reg/app:v1"));
    }

    [Test]
    public void A_document_with_no_recognisable_type_says_so()
    {
        var ex = Assert.Catch<PromotionException>(() => Manifest.Parse(Bytes("""{"schemaVersion":2}"""), null, "reg/app:v1"))!;
        Assert.That(ex.Message, Does.Contain("'(none)'"));
    }

    [Test]
    public void A_manifest_over_4_MiB_is_refused_before_parsing()
    {
        var bytes = new byte[Manifest.MaxBytes + 1];
        Array.Fill(bytes, (byte)' ');

        var ex = Assert.Catch<PromotionException>(() => Manifest.Parse(bytes, MediaTypes.OciManifest, "reg/app:big"))!;

        Assert.That(ex.Message, Does.Contain("reg/app:big"));
        Assert.That(ex.Message, Does.Contain($"{Manifest.MaxBytes + 1} bytes"));
        Assert.That(ex.Message, Does.Contain("limit"));
    }

    [Test]
    public void Bytes_that_do_not_match_the_expected_digest_are_refused()
    {
        var bytes = Bytes(ImageJson(MediaTypes.OciManifest, "c", "l"));
        var expected = Digest.Sha256(Bytes("something else"));

        var ex = Assert.Catch<PromotionException>(() => Manifest.Parse(bytes, null, "reg/app@x", expected))!;

        Assert.That(ex.Message, Does.Contain(expected.ToString()));
        Assert.That(ex.Message, Does.Contain("does not match"));
        Assert.That(Manifest.Parse(bytes, null, "reg/app@x", Digest.Sha256(bytes)).Digest, Is.EqualTo(Digest.Sha256(bytes)));
    }

    [TestCase("not json", "not valid JSON")]
    [TestCase("[1,2]", "not a JSON object")]
    [TestCase("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}""", "no config")]
    [TestCase("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}}""", "not an array")]
    [TestCase("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"x","digest":"sha256:nothex","size":1}]}""", "invalid digest 'sha256:nothex'")]
    [TestCase("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"x","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":-1}]}""", "without a valid size")]
    public void Malformed_documents_fail_with_one_line_naming_the_manifest(string json, string why)
    {
        var ex = Assert.Catch<PromotionException>(() => Manifest.Parse(Bytes(json), null, "reg/app:bad"))!;

        Assert.That(ex.Message, Does.Contain("reg/app:bad"));
        Assert.That(ex.Message, Does.Contain(why));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }
}

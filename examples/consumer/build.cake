// A team's whole build script: the pipeline module as an addin, the phases as a recipe, both from NuGet.
// ./build.sh --target=PromoteStaging | PromoteProduction | ReleaseTag | Status [--config=PATH] [--dryrun]
#addin nuget:?package=ImagePromotion&version=0.1.0&loaddependencies=true
#load nuget:?package=ImagePromotion.Recipe&version=0.1.0

RunPipeline(Argument("target", "PromoteStaging"), defaultTarget: "PromoteStaging");

"""Value domains from the clouds' own API models, checked against captured inputs.

A mock run accepts any value: a CloudWatch retention of 2555 days or a KMS key spec the
API does not know pass every offline test and fail at the first ``pulumi up``. The
clouds publish machine-readable models of their APIs; this module reads the enums,
patterns, ranges and lengths there and checks the inputs of a mock run against them:

- AWS: the CloudFormation resource schemas cfn-lint ships per region (close to the
  Terraform-bridged inputs of pulumi-aws, and each region's file lists only the types
  that region offers), and botocore's service models where CloudFormation has no type.
- GCP: Google's discovery documents shipped by google-api-python-client (the Terraform
  fields of pulumi-gcp are the REST fields in snake case, so camelCase inputs match).
- Azure: the msrest models of the azure-mgmt-* packages, generated from the same REST API
  specifications as pulumi-azure-native, at the API version azure-native uses (its input
  names are the SDKs' attribute names; ``properties`` is flattened by both), and the
  resource-name limits of each create call's request builder.

Pulumi input paths map to API fields by name (camelCase to PascalCase for AWS,
case-insensitive, singular/plural tolerant), with an explicit table where the names
differ. Inputs that map to no field are listed, not guessed: they are not checked.

The models come from dev-only packages (cfn-lint, botocore, google-api-python-client,
azure-mgmt-*), imported lazily. What ``aiscaffold new`` needs at run time, which region offers the API
resource types a project needs, is generated once into a data file
(``aiscaffold_components/catalog/region_types.yaml``, by ``scripts/gen_region_types.py``)
and read by :func:`region_problem` without those packages.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import yaml

__all__ = [
    "AWS_TYPES",
    "AZURE_TYPES",
    "AZURE_UNMODELLED",
    "GCP_TYPES",
    "NO_API_RESOURCE",
    "REGION_TYPES_FILE",
    "ApiType",
    "Problem",
    "Validation",
    "project_needs",
    "region_problem",
    "region_types_document",
    "validate",
]


class _Captured(Protocol):
    """What validation reads of a captured resource (``aiscaffold.testing.CapturedResource``)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ApiType:
    """Where a Pulumi resource type's inputs live in a cloud's API model.

    Attributes:
        model: ``cfn`` (CloudFormation schema), ``botocore`` (AWS service model),
            ``discovery`` (Google discovery document) or ``azure-mgmt`` (the msrest
            models of an azure-mgmt-* SDK package).
        name: the CloudFormation type (``AWS::Logs::LogGroup``), the botocore
            ``service.Operation`` whose input holds the fields, the discovery
            ``api.version.Schema``, or the azure-mgmt ``package:ModelClass`` of the
            request body (``azure.mgmt.storage.v2024_01_01:StorageAccountCreateParameters``).
        root: field path inside the model where the Pulumi inputs start (e.g. the S3
            sub-resources of pulumi-aws are properties of ``AWS::S3::Bucket``).
        renames: Pulumi input path (dotted, without list indexes) -> API field name,
            where the names differ beyond case and plural.
        skip: Pulumi input paths whose same-named API field has another meaning or
            form (checked by nothing here; listed so a reader sees it is deliberate).
        source: documentation of the mapping (the API resource's reference page).
        request: azure-mgmt only: ``operations_module:request_builder`` of the create
            call, whose URL parameters (resource names) carry their own limits.
        documented: azure-mgmt only: Pulumi input path -> domain (``minimum``,
            ``maximum``, ``enum`` ...) the REST reference states in a field's
            description but the model does not encode; each is quoted in the model's
            docstring (the tests check the quote), so it stays tied to the API version.
    """

    model: str
    name: str
    source: str
    root: tuple[str, ...] = ()
    renames: Mapping[str, str] = field(default_factory=dict)
    skip: frozenset[str] = frozenset()
    request: str = ""
    documented: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    version: str = ""
    """azure-mgmt only: the REST API version of the model (pulumi-azure-native's own, or
    the nearest one a PyPI package ships with the models in msrest form)."""


_CFN_DOC = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"


def _cfn(
    cfn_type: str,
    page: str,
    *,
    root: tuple[str, ...] = (),
    renames: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
) -> ApiType:
    return ApiType("cfn", cfn_type, _CFN_DOC + page, root, dict(renames or {}), frozenset(skip))


#: pulumi-aws type -> CloudFormation type (or botocore operation). pulumi-aws bridges the
#: Terraform provider, whose resources follow the service APIs like CloudFormation does;
#: where Terraform splits a CloudFormation resource (the S3 bucket sub-resources), the
#: ``root`` names the CloudFormation property. Names per the Pulumi registry
#: (https://www.pulumi.com/registry/packages/aws/api-docs/) and the CloudFormation
#: template reference (each entry's source).
AWS_TYPES: dict[str, ApiType] = {
    "aws:bedrock/guardrail:Guardrail": _cfn(
        "AWS::Bedrock::Guardrail",
        "aws-resource-bedrock-guardrail.html",
        renames={
            "wordPolicyConfig.managedWordListsConfigs": "ManagedWordListsConfig",
            "topicPolicyConfig.topicsConfigs": "TopicsConfig",
        },
    ),
    "aws:bedrock/guardrailVersion:GuardrailVersion": _cfn(
        "AWS::Bedrock::GuardrailVersion",
        "aws-resource-bedrock-guardrailversion.html",
        renames={"guardrailArn": "GuardrailIdentifier"},
        skip=["skipDestroy"],  # provider-only: keep the version when Pulumi deletes it
    ),
    # No CloudFormation type: the API operation's input is the model.
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration": ApiType(
        "botocore",
        "bedrock.PutModelInvocationLoggingConfiguration",
        "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_PutModelInvocationLoggingConfiguration.html",
    ),
    "aws:cloudtrail/trail:Trail": _cfn(
        "AWS::CloudTrail::Trail",
        "aws-resource-cloudtrail-trail.html",
        renames={
            "name": "TrailName",
            "enableLogging": "IsLogging",
            "cloudWatchLogsGroupArn": "CloudWatchLogsLogGroupArn",
        },
    ),
    "aws:accessanalyzer/analyzer:Analyzer": _cfn(
        "AWS::AccessAnalyzer::Analyzer", "aws-resource-accessanalyzer-analyzer.html"
    ),
    "aws:cloudwatch/eventRule:EventRule": _cfn(
        "AWS::Events::Rule", "aws-resource-events-rule.html"
    ),
    # Terraform's target is CloudFormation's Targets entry of the rule.
    "aws:cloudwatch/eventTarget:EventTarget": _cfn(
        "AWS::Events::Rule",
        "aws-properties-events-rule-target.html",
        root=("Targets",),
        renames={"targetId": "Id"},
        skip=["rule"],
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": _cfn(
        "AWS::Logs::MetricFilter",
        "aws-resource-logs-metricfilter.html",
        renames={
            "name": "FilterName",
            "pattern": "FilterPattern",
            "metricTransformation.name": "MetricName",
            "metricTransformation.namespace": "MetricNamespace",
            "metricTransformation.value": "MetricValue",
        },
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _cfn(
        "AWS::CloudWatch::Alarm",
        "aws-resource-cloudwatch-alarm.html",
        renames={
            "name": "AlarmName",
            "metricQueries": "Metrics",
            "metricQueries.metric": "MetricStat.Metric",
        },
        # Terraform's dimensions are a map, CloudFormation's a list of Name/Value; a
        # query's stat and period sit beside CloudFormation's Metric, in MetricStat.
        skip=[
            "dimensions",
            "metricQueries.metric.dimensions",
            "metricQueries.metric.stat",
            "metricQueries.metric.period",
        ],
    ),
    "aws:cloudwatch/logGroup:LogGroup": _cfn(
        "AWS::Logs::LogGroup",
        "aws-resource-logs-loggroup.html",
        renames={"name": "LogGroupName"},
    ),
    "aws:ec2/eip:Eip": _cfn("AWS::EC2::EIP", "aws-resource-ec2-eip.html"),
    "aws:ec2/flowLog:FlowLog": _cfn(
        "AWS::EC2::FlowLog",
        "aws-resource-ec2-flowlog.html",
        renames={"iamRoleArn": "DeliverLogsPermissionArn", "vpcId": "ResourceId"},
    ),
    # vpcId: CloudFormation attaches the gateway with AWS::EC2::VPCGatewayAttachment.
    "aws:ec2/internetGateway:InternetGateway": _cfn(
        "AWS::EC2::InternetGateway", "aws-resource-ec2-internetgateway.html", skip=["vpcId"]
    ),
    "aws:ec2/natGateway:NatGateway": _cfn(
        "AWS::EC2::NatGateway", "aws-resource-ec2-natgateway.html"
    ),
    # Terraform inlines the entries and subnet associations; CloudFormation has
    # AWS::EC2::NetworkAclEntry and AWS::EC2::SubnetNetworkAclAssociation for them.
    "aws:ec2/networkAcl:NetworkAcl": _cfn(
        "AWS::EC2::NetworkAcl",
        "aws-resource-ec2-networkacl.html",
        skip=["ingress", "egress", "subnetIds"],
    ),
    "aws:ec2/route:Route": _cfn("AWS::EC2::Route", "aws-resource-ec2-route.html"),
    "aws:ec2/routeTable:RouteTable": _cfn(
        "AWS::EC2::RouteTable", "aws-resource-ec2-routetable.html"
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _cfn(
        "AWS::EC2::SubnetRouteTableAssociation",
        "aws-resource-ec2-subnetroutetableassociation.html",
    ),
    "aws:ec2/securityGroup:SecurityGroup": _cfn(
        "AWS::EC2::SecurityGroup",
        "aws-resource-ec2-securitygroup.html",
        renames={"description": "GroupDescription", "name": "GroupName"},
        skip=["revokeRulesOnDelete"],  # provider-only: how Pulumi deletes the group
    ),
    "aws:ec2/subnet:Subnet": _cfn("AWS::EC2::Subnet", "aws-resource-ec2-subnet.html"),
    "aws:ec2/vpc:Vpc": _cfn("AWS::EC2::VPC", "aws-resource-ec2-vpc.html"),
    # Terraform attaches a gateway endpoint to one route table at a time; CloudFormation
    # lists the tables on the endpoint.
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": _cfn(
        "AWS::EC2::VPCEndpoint",
        "aws-resource-ec2-vpcendpoint.html",
        renames={"routeTableId": "RouteTableIds"},
        skip=["vpcEndpointId"],  # the endpoint itself
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _cfn(
        "AWS::EC2::VPCEndpoint",
        "aws-resource-ec2-vpcendpoint.html",
        # Terraform's policy is a JSON string; CloudFormation's PolicyDocument an object.
        renames={"policy": "PolicyDocument"},
    ),
    "aws:guardduty/detector:Detector": _cfn(
        "AWS::GuardDuty::Detector", "aws-resource-guardduty-detector.html"
    ),
    # Terraform manages each feature alone; CloudFormation lists them in the detector.
    "aws:guardduty/detectorFeature:DetectorFeature": _cfn(
        "AWS::GuardDuty::Detector",
        "aws-properties-guardduty-detector-cfnfeatureconfiguration.html",
        root=("Features",),
        renames={"additionalConfigurations": "AdditionalConfiguration"},
        skip=["detectorId"],
    ),
    "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan": _cfn(
        "AWS::GuardDuty::MalwareProtectionPlan",
        "aws-resource-guardduty-malwareprotectionplan.html",
        renames={"actions.taggings": "Tagging"},
    ),
    "aws:iam/role:Role": _cfn(
        "AWS::IAM::Role",
        "aws-resource-iam-role.html",
        renames={"assumeRolePolicy": "AssumeRolePolicyDocument", "name": "RoleName"},
        skip=["forceDetachPolicies"],  # provider-only: how Pulumi deletes the role
    ),
    "aws:iam/rolePolicy:RolePolicy": _cfn(
        "AWS::IAM::RolePolicy",
        "aws-resource-iam-rolepolicy.html",
        renames={"policy": "PolicyDocument", "role": "RoleName", "name": "PolicyName"},
    ),
    "aws:kms/alias:Alias": _cfn(
        "AWS::KMS::Alias", "aws-resource-kms-alias.html", renames={"name": "AliasName"}
    ),
    "aws:kms/key:Key": _cfn(
        "AWS::KMS::Key",
        "aws-resource-kms-key.html",
        renames={
            "customerMasterKeySpec": "KeySpec",
            "keySpec": "KeySpec",
            "deletionWindowInDays": "PendingWindowInDays",
            "policy": "KeyPolicy",
            "isEnabled": "Enabled",
        },
    ),
    "aws:s3/bucket:Bucket": _cfn(
        "AWS::S3::Bucket",
        "aws-resource-s3-bucket.html",
        renames={"bucket": "BucketName", "bucketPrefix": "BucketNamePrefix"},
        skip=["forceDestroy"],  # provider-only: how Pulumi deletes the bucket
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-lifecycleconfiguration.html",
        root=("LifecycleConfiguration",),
        # Terraform nests filter and expiration blocks; CloudFormation's Rule holds
        # their fields itself ("." merges a block into its parent).
        renames={
            "rules.filter": ".",
            "rules.expiration": ".",
            "rules.expiration.days": "ExpirationInDays",
            "rules.expiration.date": "ExpirationDate",
        },
        skip=["bucket"],
    ),
    "aws:s3/bucketLogging:BucketLogging": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-loggingconfig.html",
        root=("LoggingConfiguration",),
        renames={"targetBucket": "DestinationBucketName", "targetPrefix": "LogFilePrefix"},
        skip=["bucket"],
    ),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-objectlockconfiguration.html",
        root=("ObjectLockConfiguration",),
        skip=["bucket"],
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-ownershipcontrols.html",
        root=("OwnershipControls",),
        renames={"rule": "Rules"},
        skip=["bucket"],
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _cfn(
        "AWS::S3::BucketPolicy",
        "aws-resource-s3-bucketpolicy.html",
        renames={"policy": "PolicyDocument"},
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-publicaccessblockconfiguration.html",
        root=("PublicAccessBlockConfiguration",),
        skip=["bucket"],
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-bucketencryption.html",
        root=("BucketEncryption",),
        renames={
            "rules": "ServerSideEncryptionConfiguration",
            "rules.applyServerSideEncryptionByDefault": "ServerSideEncryptionByDefault",
        },
        skip=["bucket"],
    ),
    # REC-01's replication (issue 17): one rule per replica, as the bucket's property.
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-replicationconfiguration.html",
        root=("ReplicationConfiguration",),
        renames={
            "rules.destination.encryptionConfiguration.replicaKmsKeyId": "ReplicaKmsKeyID",
        },
        skip=["bucket"],
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _cfn(
        "AWS::S3::Bucket",
        "aws-properties-s3-bucket-versioningconfiguration.html",
        skip=["bucket"],
    ),
    "aws:sagemaker/domain:Domain": _cfn(
        "AWS::SageMaker::Domain",
        "aws-resource-sagemaker-domain.html",
        skip=["retentionPolicy"],  # an argument of DeleteDomain, not of the domain
    ),
    "aws:secretsmanager/secret:Secret": _cfn(
        "AWS::SecretsManager::Secret",
        "aws-resource-secretsmanager-secret.html",
        # arguments of DeleteSecret / replication calls, not of the secret
        skip=["recoveryWindowInDays", "forceOverwriteReplicaSecret"],
    ),
    "aws:securityhub/account:Account": _cfn(
        "AWS::SecurityHub::Hub", "aws-resource-securityhub-hub.html"
    ),
    "aws:securityhub/standardsSubscription:StandardsSubscription": _cfn(
        "AWS::SecurityHub::Standard", "aws-resource-securityhub-standard.html"
    ),
    "aws:sns/topicPolicy:TopicPolicy": _cfn(
        "AWS::SNS::TopicPolicy",
        "aws-resource-sns-topicpolicy.html",
        renames={"arn": "Topics", "policy": "PolicyDocument"},
    ),
    "aws:sns/topicSubscription:TopicSubscription": _cfn(
        "AWS::SNS::Subscription",
        "aws-resource-sns-subscription.html",
        renames={"topic": "TopicArn"},
    ),
    "aws:sns/topic:Topic": _cfn(
        "AWS::SNS::Topic",
        "aws-resource-sns-topic.html",
        renames={"name": "TopicName"},
    ),
    "aws:scheduler/schedule:Schedule": _cfn(
        "AWS::Scheduler::Schedule",
        "aws-resource-scheduler-schedule.html",
    ),
    "aws:secretsmanager/secretPolicy:SecretPolicy": _cfn(
        "AWS::SecretsManager::ResourcePolicy",
        "aws-resource-secretsmanager-resourcepolicy.html",
        renames={"secretArn": "SecretId", "policy": "ResourcePolicy"},
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _cfn(
        "AWS::EC2::SecurityGroupEgress",
        "aws-resource-ec2-securitygroupegress.html",
        renames={
            "cidrIpv4": "CidrIp",
            "securityGroupId": "GroupId",
            "prefixListId": "DestinationPrefixListId",
            "referencedSecurityGroupId": "DestinationSecurityGroupId",
        },
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _cfn(
        "AWS::EC2::SecurityGroupIngress",
        "aws-resource-ec2-securitygroupingress.html",
        renames={
            "cidrIpv4": "CidrIp",
            "securityGroupId": "GroupId",
            "prefixListId": "SourcePrefixListId",
            "referencedSecurityGroupId": "SourceSecurityGroupId",
        },
    ),
    # -- the AI gateway (issue 20)
    "aws:apigateway/restApi:RestApi": _cfn(
        "AWS::ApiGateway::RestApi",
        "aws-resource-apigateway-restapi.html",
    ),
    "aws:apigateway/restApiPolicy:RestApiPolicy": _cfn(
        "AWS::ApiGateway::RestApi",
        "aws-resource-apigateway-restapi.html",
        renames={"restApiId": "RestApiId"},
    ),
    "aws:apigateway/authorizer:Authorizer": _cfn(
        "AWS::ApiGateway::Authorizer",
        "aws-resource-apigateway-authorizer.html",
        renames={"restApi": "RestApiId", "providerArns": "ProviderARNs"},
    ),
    "aws:apigateway/method:Method": _cfn(
        "AWS::ApiGateway::Method",
        "aws-resource-apigateway-method.html",
        renames={"restApi": "RestApiId", "authorization": "AuthorizationType"},
    ),
    "aws:apigateway/resource:Resource": _cfn(
        "AWS::ApiGateway::Resource",
        "aws-resource-apigateway-resource.html",
        renames={"restApi": "RestApiId"},
    ),
    "aws:apigateway/integration:Integration": _cfn(
        "AWS::ApiGateway::Method",
        "aws-properties-apigateway-method-integration.html",
        root=("Integration",),
        renames={
            "restApi": "RestApiId",
            "resourceId": "ResourceId",
            "httpMethod": "HttpMethod",
            "integrationTarget": "IntegrationTarget",
        },
        skip=["restApi", "resourceId", "httpMethod", "integrationTarget"],
    ),
    "aws:apigateway/methodResponse:MethodResponse": _cfn(
        "AWS::ApiGateway::Method",
        "aws-properties-apigateway-method-methodresponse.html",
        root=("MethodResponses",),
        skip=["restApi", "resourceId", "httpMethod"],
    ),
    "aws:apigateway/integrationResponse:IntegrationResponse": _cfn(
        "AWS::ApiGateway::Method",
        "aws-properties-apigateway-method-integrationresponse.html",
        root=("Integration", "IntegrationResponses"),
        skip=["restApi", "resourceId", "httpMethod"],
    ),
    "aws:apigateway/deployment:Deployment": _cfn(
        "AWS::ApiGateway::Deployment",
        "aws-resource-apigateway-deployment.html",
        renames={"restApi": "RestApiId"},
        skip=["triggers"],
    ),
    "aws:apigateway/stage:Stage": _cfn(
        "AWS::ApiGateway::Stage",
        "aws-resource-apigateway-stage.html",
        renames={
            "restApi": "RestApiId",
            "deployment": "DeploymentId",
            "accessLogSettings": "AccessLogSetting",
            "xrayTracingEnabled": "TracingEnabled",
        },
    ),
    "aws:apigateway/methodSettings:MethodSettings": _cfn(
        "AWS::ApiGateway::Stage",
        "aws-properties-apigateway-stage-methodsetting.html",
        root=("MethodSettings",),
        # CloudFormation holds the settings flat in a MethodSetting, pulumi-aws nests
        # them under ``settings``; their domains (numbers, the logging level names) are
        # judged by AWS-API-003/005 instead.
        skip=["restApi", "stageName", "methodPath", "settings"],
    ),
    "aws:apigateway/account:Account": _cfn(
        "AWS::ApiGateway::Account",
        "aws-resource-apigateway-account.html",
    ),
    "aws:apigateway/usagePlan:UsagePlan": _cfn(
        "AWS::ApiGateway::UsagePlan",
        "aws-resource-apigateway-usageplan.html",
        renames={
            "name": "UsagePlanName",
            "throttleSettings": "Throttle",
            "quotaSettings": "Quota",
            "apiStages.apiId": "ApiId",
        },
    ),
    "aws:apigateway/apiKey:ApiKey": _cfn(
        "AWS::ApiGateway::ApiKey",
        "aws-resource-apigateway-apikey.html",
    ),
    "aws:apigateway/usagePlanKey:UsagePlanKey": _cfn(
        "AWS::ApiGateway::UsagePlanKey",
        "aws-resource-apigateway-usageplankey.html",
    ),
    "aws:apigateway/domainName:DomainName": _cfn(
        "AWS::ApiGateway::DomainName",
        "aws-resource-apigateway-domainname.html",
    ),
    "aws:apigateway/basePathMapping:BasePathMapping": _cfn(
        "AWS::ApiGateway::BasePathMapping",
        "aws-resource-apigateway-basepathmapping.html",
        renames={"restApi": "RestApiId", "stageName": "Stage"},
    ),
    "aws:apigatewayv2/vpcLink:VpcLink": _cfn(
        "AWS::ApiGatewayV2::VpcLink",
        "aws-resource-apigatewayv2-vpclink.html",
    ),
    "aws:lambda/function:Function": _cfn(
        "AWS::Lambda::Function",
        "aws-resource-lambda-function.html",
        renames={"name": "FunctionName"},
        skip=["code"],
    ),
    "aws:lambda/permission:Permission": _cfn(
        "AWS::Lambda::Permission",
        "aws-resource-lambda-permission.html",
        renames={"function": "FunctionName"},
    ),
    "aws:wafv2/webAcl:WebAcl": _cfn(
        "AWS::WAFv2::WebACL",
        "aws-resource-wafv2-webacl.html",
    ),
    "aws:wafv2/webAclAssociation:WebAclAssociation": _cfn(
        "AWS::WAFv2::WebACLAssociation",
        "aws-resource-wafv2-webaclassociation.html",
    ),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _cfn(
        "AWS::WAFv2::LoggingConfiguration",
        "aws-resource-wafv2-loggingconfiguration.html",
    ),
}

#: pulumi-aws types with no API resource of their own: the Terraform provider adopts the
#: VPC's default security group, route table and network ACL, which EC2 creates with the
#: VPC; they need nothing a region could lack beyond AWS::EC2::VPC.
AWS_ADOPTED = frozenset(
    {
        "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
        "aws:ec2/defaultRouteTable:DefaultRouteTable",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    }
)

#: pulumi-aws types of AWS's global billing services (AWS Budgets, Cost Explorer's anomaly
#: detection): their APIs answer at one global endpoint whatever the stack's region
#: (botocore lists no regional endpoint for ``budgets`` or ``ce``), while cfn-lint's
#: per-region CloudFormation schemas omit them in many regions where the API works
#: (eu-north-1, ap-south-2...). Validated against a region's schemas they would be
#: refused wrongly, so no model checks them yet (COST-01/02; issue 16).
AWS_GLOBAL_UNMODELLED = frozenset(
    {
        "aws:budgets/budget:Budget",
        "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
        "aws:costexplorer/anomalySubscription:AnomalySubscription",
    }
)


def _gcp(
    schema: str,
    page: str,
    *,
    renames: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
) -> ApiType:
    # project/region/location/parent are URL parameters of the REST call, not body fields.
    url_parameters = {"project", "region", "location", "parent"}
    return ApiType(
        "discovery", schema, page, (), dict(renames or {}), frozenset(url_parameters | set(skip))
    )


#: IAM member resources: one member of a binding (role, members, condition).
_GCP_BINDING = (
    "cloudresourcemanager.v1.Binding",
    "https://cloud.google.com/resource-manager/reference/rest/Shared.Types/Binding",
)

#: pulumi-gcp type -> discovery document and schema of the REST resource it creates.
#: pulumi-gcp bridges the Terraform google provider, whose fields are the REST fields in
#: snake case (so the camelCase inputs match), with the differences listed per entry.
#: References per the Pulumi registry (https://www.pulumi.com/registry/packages/gcp/api-docs/)
#: and each entry's REST reference.
GCP_TYPES: dict[str, ApiType] = {
    "gcp:compute/firewall:Firewall": _gcp(
        "compute.v1.Firewall",
        "https://cloud.google.com/compute/docs/reference/rest/v1/firewalls",
        renames={
            "denies": "denied",
            "allows": "allowed",
            "denies.protocol": "IPProtocol",
            "allows.protocol": "IPProtocol",
        },
    ),
    "gcp:compute/globalAddress:GlobalAddress": _gcp(
        "compute.v1.Address",
        "https://cloud.google.com/compute/docs/reference/rest/v1/globalAddresses",
    ),
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": _gcp(
        "compute.v1.ForwardingRule",
        "https://cloud.google.com/compute/docs/reference/rest/v1/globalForwardingRules",
        renames={"ipAddress": "IPAddress", "ipProtocol": "IPProtocol"},
    ),
    "gcp:compute/network:Network": _gcp(
        "compute.v1.Network",
        "https://cloud.google.com/compute/docs/reference/rest/v1/networks",
        # routingMode is routingConfig.routingMode in the API; the provider deletes the
        # default routes itself.
        renames={"routingMode": "routingConfig"},
        skip=["deleteDefaultRoutesOnCreate", "routingMode"],
    ),
    "gcp:compute/route:Route": _gcp(
        "compute.v1.Route", "https://cloud.google.com/compute/docs/reference/rest/v1/routes"
    ),
    "gcp:compute/subnetwork:Subnetwork": _gcp(
        "compute.v1.Subnetwork",
        "https://cloud.google.com/compute/docs/reference/rest/v1/subnetworks",
    ),
    "gcp:dataloss/preventionInspectTemplate:PreventionInspectTemplate": _gcp(
        "dlp.v2.GooglePrivacyDlpV2InspectTemplate",
        "https://cloud.google.com/sensitive-data-protection/docs/reference/rest/v2/projects.locations.inspectTemplates",
        skip=["templateId"],  # a field of the create request
    ),
    "gcp:dns/managedZone:ManagedZone": _gcp(
        "dns.v1.ManagedZone", "https://cloud.google.com/dns/docs/reference/rest/v1/managedZones"
    ),
    "gcp:dns/recordSet:RecordSet": _gcp(
        "dns.v1.ResourceRecordSet",
        "https://cloud.google.com/dns/docs/reference/rest/v1/resourceRecordSets",
        skip=["managedZone"],
    ),
    "gcp:kms/cryptoKey:CryptoKey": _gcp(
        "cloudkms.v1.CryptoKey",
        "https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys",
        skip=["keyRing", "skipInitialVersionCreation"],
    ),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _gcp(*_GCP_BINDING, skip=["cryptoKeyId"]),
    "gcp:kms/keyRing:KeyRing": _gcp(
        "cloudkms.v1.KeyRing",
        "https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings",
    ),
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": _gcp(
        "logging.v2.LogBucket",
        "https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.locations.buckets",
        skip=["bucketId"],
    ),
    "gcp:logging/projectSink:ProjectSink": _gcp(
        "logging.v2.LogSink",
        "https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.sinks",
        skip=["uniqueWriterIdentity"],  # a query parameter of sinks.create
    ),
    "gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint": _gcp(
        "networkconnectivity.v1.RegionalEndpoint",
        "https://cloud.google.com/network-connectivity/docs/reference/networkconnectivity/rest/v1/projects.locations.regionalEndpoints",
    ),
    "gcp:orgpolicy/policy:Policy": _gcp(
        "orgpolicy.v2.GoogleCloudOrgpolicyV2Policy",
        "https://cloud.google.com/resource-manager/docs/reference/orgpolicy/rest/v2/projects.policies",
    ),
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": _gcp(
        "cloudresourcemanager.v1.AuditConfig",
        "https://cloud.google.com/resource-manager/reference/rest/Shared.Types/Policy#auditconfig",
    ),
    "gcp:projects/iAMCustomRole:IAMCustomRole": _gcp(
        "iam.v1.Role",
        "https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles",
        renames={"permissions": "includedPermissions"},
        skip=["roleId"],  # a field of the create request, not of the role
    ),
    "gcp:projects/iAMMember:IAMMember": _gcp(*_GCP_BINDING),
    "gcp:pubsub/topic:Topic": _gcp(
        "pubsub.v1.Topic", "https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics"
    ),
    "gcp:pubsub/topicIAMMember:TopicIAMMember": _gcp(*_GCP_BINDING, skip=["topic"]),
    "gcp:pubsub/subscription:Subscription": _gcp(
        "pubsub.v1.Subscription",
        "https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions",
    ),
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": _gcp(
        *_GCP_BINDING, skip=["subscription"]
    ),
    "gcp:monitoring/notificationChannel:NotificationChannel": _gcp(
        "monitoring.v3.NotificationChannel",
        "https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.notificationChannels",
        skip=["forceDelete"],  # a query parameter of notificationChannels.delete
    ),
    "gcp:monitoring/alertPolicy:AlertPolicy": _gcp(
        "monitoring.v3.AlertPolicy",
        "https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies",
    ),
    "gcp:logging/metric:Metric": _gcp(
        "logging.v2.LogMetric",
        "https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.metrics",
    ),
    # google-api-python-client ships no securitycenter v2 document; the v2
    # NotificationConfig has the v1 fields (configId is a query parameter of create).
    "gcp:securitycenter/v2ProjectNotificationConfig:V2ProjectNotificationConfig": _gcp(
        "securitycenter.v1.NotificationConfig",
        "https://cloud.google.com/security-command-center/docs/reference/rest/v2/projects.locations.notificationConfigs",
        skip=["configId"],
    ),
    "gcp:secretmanager/secret:Secret": _gcp(
        "secretmanager.v1.Secret",
        "https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets",
        skip=["secretId", "deletionProtection"],
    ),
    "gcp:secretmanager/secretIamMember:SecretIamMember": _gcp(*_GCP_BINDING, skip=["secretId"]),
    "gcp:serviceaccount/account:Account": _gcp(
        "iam.v1.ServiceAccount",
        "https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts",
        skip=["accountId", "createIgnoreAlreadyExists"],  # fields of the create request
    ),
    "gcp:storage/bucket:Bucket": _gcp(
        "storage.v1.Bucket",
        "https://cloud.google.com/storage/docs/json_api/v1/buckets",
        # Terraform flattens iamConfiguration.{uniformBucketLevelAccess.enabled,
        # publicAccessPrevention}; the provider deletes objects itself.
        skip=["forceDestroy", "uniformBucketLevelAccess", "publicAccessPrevention"],
        renames={"lifecycleRules": "lifecycle.rule"},
    ),
    "gcp:storage/bucketIAMMember:BucketIAMMember": _gcp(*_GCP_BINDING, skip=["bucket"]),
    "gcp:serviceaccount/iAMMember:IAMMember": _gcp(*_GCP_BINDING, skip=["serviceAccountId"]),
    "gcp:storage/transferJob:TransferJob": _gcp(
        "storagetransfer.v1.TransferJob",
        "https://cloud.google.com/storage-transfer/docs/reference/rest/v1/transferJobs",
    ),
    "gcp:vertex/aiEndpoint:AiEndpoint": _gcp(
        "aiplatform.v1.GoogleCloudAiplatformV1Endpoint",
        "https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.endpoints",
    ),
    "gcp:vertex/aiEndpointIamMember:AiEndpointIamMember": _gcp(*_GCP_BINDING, skip=["endpoint"]),
    "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter": _gcp(
        "accesscontextmanager.v1.ServicePerimeter",
        "https://cloud.google.com/access-context-manager/docs/reference/rest/v1/accessPolicies.servicePerimeters",
    ),
    "gcp:secretmanager/secretVersion:SecretVersion": _gcp(
        "secretmanager.v1.SecretVersion",
        "https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions",
        # the payload of secrets.addVersion on the secret named by `secret`
        skip=["secret", "secretData"],
    ),
    "gcp:billing/budget:Budget": _gcp(
        "billingbudgets.v1.GoogleCloudBillingBudgetsV1Budget",
        "https://cloud.google.com/billing/docs/reference/budget/rest/v1/billingAccounts.budgets",
        # billingAccount is the URL's parent; the provider sends allUpdatesRule as the
        # v1 notificationsRule.
        skip=["billingAccount"],
        renames={"allUpdatesRule": "notificationsRule"},
    ),
    "gcp:serviceusage/consumerQuotaOverride:ConsumerQuotaOverride": _gcp(
        "serviceusage.v1beta1.QuotaOverride",
        "https://cloud.google.com/service-usage/docs/reference/rest/v1beta1/services.consumerQuotaMetrics.limits.consumerOverrides",
        # service, limit and force are URL path and query parameters of create
        skip=["service", "limit", "force"],
    ),
    "gcp:workbench/instance:Instance": _gcp(
        "notebooks.v2.Instance",
        "https://cloud.google.com/vertex-ai/docs/workbench/reference/rest/v2/projects.locations.instances",
        skip=["instanceId"],  # a query parameter of instances.create
    ),
    # The AI gateway (aiscaffold_components.gcp.gateway).
    "gcp:compute/address:Address": _gcp(
        "compute.v1.Address", "https://cloud.google.com/compute/docs/reference/rest/v1/addresses"
    ),
    "gcp:compute/forwardingRule:ForwardingRule": _gcp(
        "compute.v1.ForwardingRule",
        "https://cloud.google.com/compute/docs/reference/rest/v1/forwardingRules",
        renames={"ipAddress": "IPAddress", "ipProtocol": "IPProtocol"},
    ),
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": _gcp(
        "compute.v1.NetworkEndpointGroup",
        "https://cloud.google.com/compute/docs/reference/rest/v1/regionNetworkEndpointGroups",
    ),
    "gcp:compute/securityPolicy:SecurityPolicy": _gcp(
        "compute.v1.SecurityPolicy",
        "https://cloud.google.com/compute/docs/reference/rest/v1/securityPolicies",
    ),
    "gcp:compute/regionSecurityPolicy:RegionSecurityPolicy": _gcp(
        "compute.v1.SecurityPolicy",
        "https://cloud.google.com/compute/docs/reference/rest/v1/regionSecurityPolicies",
    ),
    "gcp:compute/backendService:BackendService": _gcp(
        "compute.v1.BackendService",
        "https://cloud.google.com/compute/docs/reference/rest/v1/backendServices",
    ),
    "gcp:compute/regionBackendService:RegionBackendService": _gcp(
        "compute.v1.BackendService",
        "https://cloud.google.com/compute/docs/reference/rest/v1/regionBackendServices",
    ),
    "gcp:compute/uRLMap:URLMap": _gcp(
        "compute.v1.UrlMap", "https://cloud.google.com/compute/docs/reference/rest/v1/urlMaps"
    ),
    "gcp:compute/regionUrlMap:RegionUrlMap": _gcp(
        "compute.v1.UrlMap", "https://cloud.google.com/compute/docs/reference/rest/v1/regionUrlMaps"
    ),
    "gcp:compute/sSLPolicy:SSLPolicy": _gcp(
        "compute.v1.SslPolicy",
        "https://cloud.google.com/compute/docs/reference/rest/v1/sslPolicies",
    ),
    "gcp:compute/regionSslPolicy:RegionSslPolicy": _gcp(
        "compute.v1.SslPolicy",
        "https://cloud.google.com/compute/docs/reference/rest/v1/regionSslPolicies",
    ),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": _gcp(
        "compute.v1.SslCertificate",
        "https://cloud.google.com/compute/docs/reference/rest/v1/sslCertificates",
    ),
    "gcp:compute/sSLCertificate:SSLCertificate": _gcp(
        "compute.v1.SslCertificate",
        "https://cloud.google.com/compute/docs/reference/rest/v1/sslCertificates",
    ),
    "gcp:compute/regionSslCertificate:RegionSslCertificate": _gcp(
        "compute.v1.SslCertificate",
        "https://cloud.google.com/compute/docs/reference/rest/v1/regionSslCertificates",
    ),
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": _gcp(
        "compute.v1.TargetHttpsProxy",
        "https://cloud.google.com/compute/docs/reference/rest/v1/targetHttpsProxies",
    ),
    "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy": _gcp(
        "compute.v1.TargetHttpsProxy",
        "https://cloud.google.com/compute/docs/reference/rest/v1/regionTargetHttpsProxies",
    ),
    "gcp:cloudrunv2/service:Service": _gcp(
        "run.v2.GoogleCloudRunV2Service",
        "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services",
        renames={"template.containers.envs": "env"},
        # name is the create call's serviceId; deletionProtection is the provider's own.
        skip=["name", "deletionProtection"],
    ),
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": _gcp(*_GCP_BINDING, skip=["name"]),
    "gcp:endpoints/serviceIamMember:ServiceIamMember": _gcp(*_GCP_BINDING, skip=["serviceName"]),
}

#: pulumi-gcp types whose API call has no body to validate (enabling a service, asking
#: for a service agent), or whose API has no discovery document in
#: google-api-python-client (Model Armor: its REST reference is
#: https://cloud.google.com/security-command-center/docs/reference/model-armor/rest).
GCP_UNMODELLED = frozenset(
    {
        "gcp:projects/service:Service",
        "gcp:projects/serviceIdentity:ServiceIdentity",
        "gcp:securitycenter/notificationServiceAccount:NotificationServiceAccount",
        "gcp:modelarmor/template:Template",
        "gcp:modelarmor/floorsetting:Floorsetting",
        # Deployed from an OpenAPI document (services.configs.submit of a config
        # source), not a body of fields:
        # https://cloud.google.com/service-infrastructure/docs/service-management/reference/rest/v1/services.configs/submit
        "gcp:endpoints/service:Service",
    }
)


#: Azure types no azure-mgmt package models at the API version azure-native uses: the
#: security contact is 2023-12-01-preview (notificationsSources, isEnabled), while
#: azure-mgmt-security ships only 2017-08-01-preview and 2020-01-01-preview, a different
#: shape. Its inputs are checked by the component and AZURE-DET-002 instead.
AZURE_UNMODELLED = frozenset({"azure-native:security:SecurityContact"})


_LEARN = "https://learn.microsoft.com/rest/api/"


def _azure(
    package: str,
    model: str,
    request: str,
    version: str,
    page: str,
    *,
    renames: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
    documented: Mapping[str, Mapping[str, Any]] | None = None,
) -> ApiType:
    return ApiType(
        "azure-mgmt",
        f"{package}:{model}",
        _LEARN + page,
        (),
        dict(renames or {}),
        frozenset(skip),
        request=request,
        documented=dict(documented or {}),
        version=version,
    )


_STORAGE = "azure.mgmt.storage.v2024_01_01"
_NETWORK = "azure.mgmt.network"
_KEYVAULT = "azure.mgmt.keyvault"
_COGNITIVE = "azure.mgmt.cognitiveservices"
_LOGS = "azure.mgmt.loganalytics"
_PRIVATEDNS = "azure.mgmt.privatedns"
_MONITOR = "azure.mgmt.monitor.v2021_05_01_preview"

#: pulumi-azure-native type -> the azure-mgmt model of its create request. azure-native is
#: generated from the Azure REST API specifications, like the azure-mgmt-* packages; each
#: default module pins one API version per resource ("Uses Azure REST API version ..." in
#: its source), and each entry names the package holding that version's models in msrest
#: form (``_attribute_map``, ``_validation``, enum classes; the newer TypeSpec-generated
#: packages carry no ``_validation``), or the nearest version where none ships it (see
#: ``version``). azure-native flattens ``properties`` where the specification does
#: (x-ms-client-flatten), as msrest does: the camelCase input path is the REST key without
#: ``properties.``. URL parameters (the resource's name, its parent's) are checked against
#: the create call's request builder. Pages per the Azure REST API reference.
AZURE_TYPES: dict[str, ApiType] = {
    # Defender for Cloud plans (DET-01): subscription-scope pricings, 2024-01-01.
    "azure-native:security:Pricing": _azure(
        "azure.mgmt.security.v2024_01_01",
        "Pricing",
        "operations._pricings_operations:build_update_request",
        "2024-01-01",
        "defenderforcloud/pricings/update",
    ),
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": _azure(
        "azure.mgmt.resource.locks",
        "ManagementLockObject",
        "operations._operations:build_management_locks_create_or_update_at_resource_group_level_request",
        "2020-05-01",
        "resources/management-locks/create-or-update-at-resource-group-level",
    ),
    "azure-native:authorization:RoleAssignment": _azure(
        "azure.mgmt.authorization.v2022_04_01",
        "RoleAssignmentCreateParameters",
        "operations._role_assignments_operations:build_create_request",
        "2022-04-01",
        "authorization/role-assignments/create",
    ),
    # The training identity's fine-tuning role (issue 17). azure-native uses
    # 2022-05-01-preview; azure-mgmt-authorization ships the nearest stable, 2022-04-01.
    "azure-native:authorization:RoleDefinition": _azure(
        "azure.mgmt.authorization.v2022_04_01",
        "RoleDefinition",
        "operations._role_definitions_operations:build_create_or_update_request",
        "2022-04-01",
        "authorization/role-definitions/create-or-update",
    ),
    "azure-native:cognitiveservices:Account": _azure(
        _COGNITIVE,
        "Account",
        "operations._accounts_operations:build_create_request",
        "2025-06-01",
        "aiservices/accountmanagement/accounts/create",
    ),
    "azure-native:cognitiveservices:Deployment": _azure(
        _COGNITIVE,
        "Deployment",
        "operations._deployments_operations:build_create_or_update_request",
        "2025-06-01",
        "aiservices/accountmanagement/deployments/create-or-update",
    ),
    "azure-native:cognitiveservices:RaiBlocklist": _azure(
        _COGNITIVE,
        "RaiBlocklist",
        "operations._rai_blocklists_operations:build_create_or_update_request",
        "2025-06-01",
        "aiservices/accountmanagement/rai-blocklists/create-or-update",
    ),
    "azure-native:cognitiveservices:RaiBlocklistItem": _azure(
        _COGNITIVE,
        "RaiBlocklistItem",
        "operations._rai_blocklist_items_operations:build_create_or_update_request",
        "2025-06-01",
        "aiservices/accountmanagement/rai-blocklist-items/create-or-update",
    ),
    "azure-native:cognitiveservices:RaiPolicy": _azure(
        _COGNITIVE,
        "RaiPolicy",
        "operations._rai_policies_operations:build_create_or_update_request",
        "2025-06-01",
        "aiservices/accountmanagement/rai-policies/create-or-update",
    ),
    # Cost guardrails (COST-01, COST-02). azure-native uses 2024-08-01 for both; the
    # packages shipping that version (azure-mgmt-consumption 11, azure-mgmt-costmanagement
    # 5) are TypeSpec-built, without limits: the nearest msrest models are 2021-10-01's
    # budget (the same fields; "up to five notifications", thresholds "between 0 and
    # 1000") and 2022-10-01's scheduled action (``notification.to`` 1-20 addresses).
    "azure-native:consumption:Budget": _azure(
        "azure.mgmt.consumption",
        "Budget",
        "operations._budgets_operations:build_create_or_update_request",
        "2021-10-01",
        "consumption/budgets/create-or-update",
        # The REST reference states these in the fields' descriptions only.
        documented={"notifications.threshold": {"minimum": 0, "maximum": 1000}},
    ),
    "azure-native:costmanagement:ScheduledActionByScope": _azure(
        "azure.mgmt.costmanagement",
        "ScheduledAction",
        "operations._scheduled_actions_operations:build_create_or_update_by_scope_request",
        "2022-10-01",
        "cost-management/scheduled-actions/create-or-update-by-scope",
    ),
    # The vault's Event Grid system topic and its subscriptions (secret expiry alerts to
    # the action group, the rotation function): 2025-02-15, as azure-native 3.29 uses.
    "azure-native:eventgrid:SystemTopic": _azure(
        "azure.mgmt.eventgrid",
        "SystemTopic",
        "operations._system_topics_operations:build_create_or_update_request",
        "2025-02-15",
        "eventgrid/controlplane/system-topics/create-or-update",
    ),
    "azure-native:eventgrid:SystemTopicEventSubscription": _azure(
        "azure.mgmt.eventgrid",
        "EventSubscription",
        "operations._system_topic_event_subscriptions_operations:build_create_or_update_request",
        "2025-02-15",
        "eventgrid/controlplane/system-topic-event-subscriptions/create-or-update",
    ),
    "azure-native:keyvault:Key": _azure(
        _KEYVAULT,
        "KeyCreateParameters",
        "operations._keys_operations:build_create_if_not_exist_request",
        "2024-11-01",
        "keyvault/keyvault/keys/create-if-not-exist",
    ),
    "azure-native:keyvault:Secret": _azure(
        _KEYVAULT,
        "SecretCreateOrUpdateParameters",
        "operations._secrets_operations:build_create_or_update_request",
        "2024-11-01",
        "keyvault/keyvault/secrets/create-or-update",
    ),
    "azure-native:keyvault:Vault": _azure(
        _KEYVAULT,
        "VaultCreateOrUpdateParameters",
        "operations._vaults_operations:build_create_or_update_request",
        "2024-11-01",
        "keyvault/keyvault/vaults/create-or-update",
    ),
    # Registered by the CI deploy identity of bootstrap/ (GitHub OIDC federation).
    "azure-native:managedidentity:FederatedIdentityCredential": _azure(
        "azure.mgmt.msi.v2023_01_31",
        "FederatedIdentityCredential",
        "operations._federated_identity_credentials_operations:build_create_or_update_request",
        "2023-01-31",
        "managedidentity/federated-identity-credentials/create-or-update",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": _azure(
        "azure.mgmt.msi.v2023_01_31",
        "Identity",
        "operations._user_assigned_identities_operations:build_create_or_update_request",
        "2023-01-31",
        "managedidentity/user-assigned-identities/create-or-update",
    ),
    # The alerting types (activity-log and metric alerts, their action group) are mapped
    # ahead of the components that register them: azure-native's ActionGroup uses
    # 2024-10-01-preview, whose models no msrest release ships; 2023-01-01 is the nearest.
    "azure-native:monitor:ActionGroup": _azure(
        "azure.mgmt.monitor.v2023_01_01",
        "ActionGroupResource",
        "operations._action_groups_operations:build_create_or_update_request",
        "2023-01-01",
        "monitor/action-groups/create-or-update",
    ),
    "azure-native:monitor:ActivityLogAlert": _azure(
        "azure.mgmt.monitor.v2020_10_01",
        "ActivityLogAlertResource",
        "operations._activity_log_alerts_operations:build_create_or_update_request",
        "2020-10-01",
        "monitor/activity-log-alerts/create-or-update",
    ),
    "azure-native:monitor:MetricAlert": _azure(
        "azure.mgmt.monitor.v2018_03_01",
        "MetricAlertResource",
        "operations._metric_alerts_operations:build_create_or_update_request",
        "2018-03-01",
        "monitor/metric-alerts/create-or-update",
    ),
    # Log search alert rules (SecurityAlarms): azure-native uses 2025-01-01-preview, whose
    # models no msrest release ships; 2022-08-01-preview is the nearest in azure-mgmt-monitor 6.
    "azure-native:monitor:ScheduledQueryRule": _azure(
        "azure.mgmt.monitor.v2022_08_01_preview",
        "ScheduledQueryRuleResource",
        "operations._scheduled_query_rules_operations:build_create_or_update_request",
        "2022-08-01-preview",
        "monitor/scheduled-query-rules/create-or-update",
        # actionProperties (properties added to the notification) came with 2023-12-01.
        skip=("actions.actionProperties",),
    ),
    # The AI gateway (issue 20): API Management 2024-05-01 (azure-mgmt-apimanagement 5),
    # Front Door (Standard/Premium) profiles and routes, and its WAF policies. The cdn and
    # frontdoor packages that carry msrest models stop at 2024-02-01 (their TypeSpec-built
    # successors carry no limits): the nearest version azure-native's 2025-06-01 and
    # 2025-11-01 are checked against.
    **{
        f"azure-native:apimanagement:{token}": _azure(
            "azure.mgmt.apimanagement",
            model,
            f"operations._{module}_operations:build_create_or_update_request",
            "2024-05-01",
            f"apimanagement/{page}/create-or-update",
        )
        for token, model, module, page in (
            (
                "ApiManagementService",
                "ApiManagementServiceResource",
                "api_management_service",
                "api-management-service",
            ),
            ("Api", "ApiCreateOrUpdateParameter", "api", "apis"),
            ("ApiOperation", "OperationContract", "api_operation", "api-operation"),
            ("ApiPolicy", "PolicyContract", "api_policy", "api-policy"),
            ("Logger", "LoggerContract", "logger", "logger"),
            ("Diagnostic", "DiagnosticContract", "diagnostic", "diagnostic"),
        )
    },
    **{
        f"azure-native:cdn:{token}": _azure(
            "azure.mgmt.cdn",
            model,
            f"operations._{module}_operations:build_create_request",
            "2024-02-01",
            f"frontdoor/{page}/create",
        )
        for token, model, module, page in (
            ("Profile", "Profile", "profiles", "profiles"),
            ("AFDEndpoint", "AFDEndpoint", "afd_endpoints", "afd-endpoints"),
            ("AFDOriginGroup", "AFDOriginGroup", "afd_origin_groups", "afd-origin-groups"),
            ("AFDOrigin", "AFDOrigin", "afd_origins", "afd-origins"),
            ("Route", "Route", "routes", "routes"),
            ("SecurityPolicy", "SecurityPolicy", "security_policies", "security-policies"),
        )
    },
    "azure-native:frontdoor:Policy": _azure(
        "azure.mgmt.frontdoor",
        "WebApplicationFirewallPolicy",
        "operations._policies_operations:build_create_or_update_request",
        "2024-02-01",
        "frontdoorservice/frontdoor/policies/create-or-update",
    ),
    "azure-native:monitor:DiagnosticSetting": _azure(
        _MONITOR,
        "DiagnosticSettingsResource",
        "operations._diagnostic_settings_operations:build_create_or_update_request",
        "2021-05-01-preview",
        "monitor/diagnostic-settings/create-or-update",
    ),
    "azure-native:monitor:SubscriptionDiagnosticSetting": _azure(
        _MONITOR,
        "SubscriptionDiagnosticSettingsResource",
        "operations._subscription_diagnostic_settings_operations:build_create_or_update_request",
        "2021-05-01-preview",
        "monitor/subscription-diagnostic-settings/create-or-update",
    ),
    "azure-native:network:FlowLog": _azure(
        _NETWORK,
        "FlowLog",
        "operations._operations:build_flow_logs_create_or_update_request",
        "2024-05-01",
        "network-watcher/flow-logs/create-or-update",
    ),
    "azure-native:network:NatGateway": _azure(
        _NETWORK,
        "NatGateway",
        "operations._operations:build_nat_gateways_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/nat-gateways/create-or-update",
    ),
    "azure-native:network:NetworkSecurityGroup": _azure(
        _NETWORK,
        "NetworkSecurityGroup",
        "operations._operations:build_network_security_groups_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/network-security-groups/create-or-update",
        # The model types priority as a bare integer; its description in 2024-05-01 (and
        # the REST reference of security rules) gives the range: "The value can be
        # between 100 and 4096." A 2026 report says the service now takes more
        # (https://github.com/Azure/azure-sdk-for-java/issues/48429): the documented
        # range of the API version in use stays the safe one.
        documented={"securityRules.priority": {"minimum": 100, "maximum": 4096}},
    ),
    "azure-native:network:PrivateDnsZoneGroup": _azure(
        _NETWORK,
        "PrivateDnsZoneGroup",
        "operations._operations:build_private_dns_zone_groups_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/private-dns-zone-groups/create-or-update",
    ),
    "azure-native:network:PrivateEndpoint": _azure(
        _NETWORK,
        "PrivateEndpoint",
        "operations._operations:build_private_endpoints_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/private-endpoints/create-or-update",
    ),
    "azure-native:network:PublicIPAddress": _azure(
        _NETWORK,
        "PublicIPAddress",
        "operations._operations:build_public_ip_addresses_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/public-ip-addresses/create-or-update",
    ),
    "azure-native:network:Subnet": _azure(
        _NETWORK,
        "Subnet",
        "operations._operations:build_subnets_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/subnets/create-or-update",
    ),
    "azure-native:network:VirtualNetwork": _azure(
        _NETWORK,
        "VirtualNetwork",
        "operations._operations:build_virtual_networks_create_or_update_request",
        "2024-05-01",
        "virtualnetwork/virtual-networks/create-or-update",
    ),
    # azure-native uses 2023-09-01; azure-mgmt-loganalytics ships msrest models of
    # 2025-07-01 only (13.x; 14.x is TypeSpec-generated, without limits), whose
    # retention limits are those of 2023-09-01 (4-730 days interactive, 4-4383 total).
    "azure-native:operationalinsights:Table": _azure(
        _LOGS,
        "Table",
        "operations._tables_operations:build_create_or_update_request",
        "2025-07-01",
        "loganalytics/tables/create-or-update",
    ),
    "azure-native:operationalinsights:Workspace": _azure(
        _LOGS,
        "Workspace",
        "operations._workspaces_operations:build_create_or_update_request",
        "2025-07-01",
        "loganalytics/workspaces/create-or-update",
    ),
    "azure-native:privatedns:PrivateZone": _azure(
        _PRIVATEDNS,
        "PrivateZone",
        "operations._private_zones_operations:build_create_or_update_request",
        "2024-06-01",
        "dns/privatednszones/private-zones/create-or-update",
    ),
    "azure-native:privatedns:VirtualNetworkLink": _azure(
        _PRIVATEDNS,
        "VirtualNetworkLink",
        "operations._virtual_network_links_operations:build_create_or_update_request",
        "2024-06-01",
        "dns/privatednszones/virtual-network-links/create-or-update",
    ),
    # azure-native uses 2024-03-01; the nearest msrest models that install beside
    # azure-mgmt-resource-locks are 2025-04-01's (a resource group is location, tags
    # and managedBy in both).
    "azure-native:resources:ResourceGroup": _azure(
        "azure.mgmt.resource.resources",
        "ResourceGroup",
        "operations._operations:build_resource_groups_create_or_update_request",
        "2025-04-01",
        "resources/resource-groups/create-or-update",
    ),
    "azure-native:storage:BlobContainer": _azure(
        _STORAGE,
        "BlobContainer",
        "operations._blob_containers_operations:build_create_request",
        "2024-01-01",
        "storagerp/blob-containers/create",
    ),
    "azure-native:storage:BlobServiceProperties": _azure(
        _STORAGE,
        "BlobServiceProperties",
        "operations._blob_services_operations:build_set_service_properties_request",
        "2024-01-01",
        "storagerp/blob-services/set-service-properties",
    ),
    # Replicas in the recovery region (issue 17, REC-01).
    "azure-native:storage:ObjectReplicationPolicy": _azure(
        _STORAGE,
        "ObjectReplicationPolicy",
        "operations._object_replication_policies_operations:build_create_or_update_request",
        "2024-01-01",
        "storagerp/object-replication-policies/create-or-update",
    ),
    "azure-native:storage:ManagementPolicy": _azure(
        _STORAGE,
        "ManagementPolicy",
        "operations._management_policies_operations:build_create_or_update_request",
        "2024-01-01",
        "storagerp/management-policies/create-or-update",
    ),
    "azure-native:storage:StorageAccount": _azure(
        _STORAGE,
        "StorageAccountCreateParameters",
        "operations._storage_accounts_operations:build_create_request",
        "2024-01-01",
        "storagerp/storage-accounts/create",
    ),
}

#: Types a project registers that make no cloud API call at all: pulumiverse-time's Sleep
#: waits in the Pulumi engine (https://www.pulumi.com/registry/packages/time/api-docs/sleep/).
NO_API_RESOURCE = frozenset({"time:index/sleep:Sleep"})


_NO_MODEL = (
    AWS_ADOPTED | AWS_GLOBAL_UNMODELLED | GCP_UNMODELLED | AZURE_UNMODELLED | NO_API_RESOURCE
)


# ------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Problem:
    """One input value the cloud's API model rejects."""

    type: str
    name: str
    path: str
    """Pulumi input path, camelCase with list indexes (``rules[0].status``)."""
    field: str
    """API model field (``AWS::Logs::LogGroup.RetentionInDays``)."""
    value: Any
    message: str
    source: str

    def __str__(self) -> str:
        return f"{self.type} {self.name}: {self.message} (see {self.source})"


@dataclass
class Validation:
    """What a validation checked, found wrong, and could not map."""

    problems: list[Problem] = field(default_factory=list)
    checked: set[tuple[str, str]] = field(default_factory=set)
    """(Pulumi type, input path without indexes) of every leaf checked against a field."""
    unmapped: set[tuple[str, str]] = field(default_factory=set)
    """(Pulumi type, input path) with no API field: not checked."""
    unknown_types: set[str] = field(default_factory=set)
    """Custom resource types of the cloud with no API model mapping."""


# ---------------------------------------------------------------- model adapters
Node = Any
Resolve = Callable[[Node], dict[str, Any]]


@functools.cache
def _cfn_schema(region: str, cfn_type: str) -> dict[str, Any] | None:
    manager = importlib.import_module("cfnlint.schema").PROVIDER_SCHEMA_MANAGER
    if cfn_type not in manager.get_resource_types(region):
        return None
    schema: dict[str, Any] = manager.get_resource_schema(region, cfn_type).schema
    return schema


def _cfn_resolver(schema: dict[str, Any]) -> Resolve:
    def resolve(node: Node) -> dict[str, Any]:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#/definitions/"):
                return {}
            merged = {k: v for k, v in node.items() if k != "$ref"}
            node = {**schema["definitions"][ref.rsplit("/", 1)[1]], **merged}
            seen += 1
        return node if isinstance(node, dict) else {}

    return resolve


@functools.cache
def _botocore_session() -> Any:
    return importlib.import_module("botocore.session").get_session()


def _botocore_resolve(node: Node) -> dict[str, Any]:
    """A botocore shape as the JSON-schema subset the walker reads."""
    if isinstance(node, dict):
        return node
    kind = node.type_name
    meta = node.metadata
    out: dict[str, Any] = {}
    if kind == "structure":
        out["properties"] = dict(node.members)
    elif kind == "list":
        out["items"] = node.member
        out["minItems"], out["maxItems"] = meta.get("min"), meta.get("max")
    elif kind == "string":
        out["type"] = "string"
        out["enum"] = node.enum or None
        out["pattern"] = meta.get("pattern")
        out["minLength"], out["maxLength"] = meta.get("min"), meta.get("max")
    elif kind in ("integer", "long"):
        out["type"] = "integer"
        out["minimum"], out["maximum"] = meta.get("min"), meta.get("max")
    elif kind == "boolean":
        out["type"] = "boolean"
    return {k: v for k, v in out.items() if v is not None}


@functools.cache
def _discovery(api: str) -> dict[str, Any]:
    package = importlib.import_module("googleapiclient.discovery_cache")
    documents = Path(str(package.__file__)).parent / "documents"
    document: dict[str, Any] = json.loads((documents / f"{api}.json").read_text("utf-8"))
    return document


def _discovery_resolver(api: str) -> Resolve:
    schemas = _discovery(api)["schemas"]

    def resolve(node: Node) -> dict[str, Any]:
        if isinstance(node, dict) and "$ref" in node:
            node = {**schemas[node["$ref"]], **{k: v for k, v in node.items() if k != "$ref"}}
        return node if isinstance(node, dict) else {}

    return resolve


# azure-mgmt (msrest) models: ``_attribute_map`` maps each Python attribute to its REST key
# ("properties.retentionInDays") and wire type ("int", "[SecurityRule]", "{str}", a model
# class name), ``_validation`` holds the limits of the REST specification (max_length,
# min_length, pattern, maximum, minimum, max_items, min_items) and readonly/required/
# constant flags; enums are typed "str" there and named in ``__init__``'s annotations.
_MSREST_LIMITS = {
    "max_length": "maxLength",
    "min_length": "minLength",
    "pattern": "pattern",
    "maximum": "maximum",
    "minimum": "minimum",
    "max_items": "maxItems",
    "min_items": "minItems",
    "multiple": "multipleOf",
}
_MSREST_SCALARS = {"str": "string", "int": "integer", "long": "integer", "float": "number"}


def _azure_models(package: str) -> Any:
    return importlib.import_module(f"{package}.models")


def _azure_enum(cls: type, attribute: str, models: Any) -> list[str] | None:
    """The values of the enum ``__init__`` annotates ``attribute`` with, if any."""
    try:
        parameter = inspect.signature(cls.__init__).parameters.get(attribute)  # type: ignore[misc]
    except (TypeError, ValueError):
        return None
    if parameter is None:
        return None
    for name in re.findall(r"_models\.(\w+)", str(parameter.annotation)):
        enum = getattr(models, name, None)
        if isinstance(enum, type) and issubclass(enum, Enum):
            return [str(member.value) for member in enum]
    return None


def _azure_field(cls: type, attribute: str, wire: str, models: Any) -> dict[str, Any]:
    """The JSON-schema subset the walker reads, for one attribute of a model class."""
    rules: dict[str, Any] = getattr(cls, "_validation", {}).get(attribute, {})
    limits = {_MSREST_LIMITS[k]: v for k, v in rules.items() if k in _MSREST_LIMITS}
    if rules.get("constant"):
        limits["enum"] = [getattr(cls, attribute)]
    node = _azure_wire(wire, models)
    item = node.get("items")
    enum = _azure_enum(cls, attribute, models)
    if isinstance(item, dict) and item.get("type") == "string" and enum:
        node["items"] = {**item, "enum": enum}  # a list of enum values
    elif node.get("type") == "string" and enum and "enum" not in limits:
        node["enum"] = enum
    return {**node, **limits}


def _azure_wire(wire: str, models: Any) -> dict[str, Any]:
    if wire.startswith("[") and wire.endswith("]"):
        return {"items": _azure_wire(wire[1:-1], models)}
    if wire.startswith("{"):
        return {}  # a map: keys are the user's (tags, user-assigned identity ids)
    if wire in _MSREST_SCALARS:
        return {"type": _MSREST_SCALARS[wire]}
    if wire == "bool":
        return {"type": "boolean"}
    model = getattr(models, wire, None)
    if isinstance(model, type) and hasattr(model, "_attribute_map"):
        return {"$model": model}
    return {}  # iso-8601, duration, object, ...: not checked here


@functools.cache
def _azure_properties(cls: type, package: str) -> dict[str, Any]:
    """The writable REST fields of a model class, nested by their REST keys.

    azure-native names its inputs like the SDKs name their attributes (both follow the
    specification's ``x-ms-client-name``: ``enableHttpsTrafficOnly`` for the REST
    ``properties.supportsHttpsTrafficOnly``, ``notBefore`` for ``nbf``) and flattens
    ``properties`` like msrest does. So each field is also offered at the class level
    under its attribute name, with the REST key it stands for as ``x-key``; REST names
    win where both exist.
    """
    models = _azure_models(package)
    tree: dict[str, Any] = {}
    aliases: dict[str, Any] = {}
    for attribute, spec in cls._attribute_map.items():  # type: ignore[attr-defined]
        if getattr(cls, "_validation", {}).get(attribute, {}).get("readonly"):
            continue  # "populated by the server, and will be ignored when sending a request"
        parts = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", spec["key"])]
        node = _azure_field(cls, attribute, spec["type"], models)
        level = tree
        for part in parts[:-1]:
            level = level.setdefault(part, {"properties": {}})["properties"]
        level[parts[-1]] = node
        aliases[attribute] = {**node, "x-key": spec["key"]}
    known = {_norm(name) for name in tree}
    for name, node in aliases.items():
        if _norm(name) not in known:
            tree[name] = node
            known.add(_norm(name))
    # A polymorphic model (a discriminator such as odata.type): the fields of every
    # subtype, as for a JSON schema's oneOf. Only the declaring base's own map: the
    # subtypes inherit it.
    for subtypes in vars(cls).get("_subtype_map", {}).values():
        for subtype in subtypes.values():
            sub = getattr(models, subtype, None)
            if isinstance(sub, type) and sub is not cls and hasattr(sub, "_attribute_map"):
                for name, node in _azure_properties(sub, package).items():
                    if _norm(name) not in known:
                        tree[name] = node
                        known.add(_norm(name))
    return tree


def _azure_resolver(package: str) -> Resolve:
    def resolve(node: Node) -> dict[str, Any]:
        if isinstance(node, dict) and "$model" in node:
            return {"properties": _azure_properties(node["$model"], package)}
        return node if isinstance(node, dict) else {}

    return resolve


@functools.cache
def _azure_url_parameters(package: str, request: str) -> dict[str, dict[str, Any]]:
    """The URL parameters of a request builder and their limits (``accountName``: 3-24 ...).

    Read from the builder's source: msrest serializes them with
    ``_SERIALIZER.url("account_name", account_name, "str", max_length=24, ...)`` under the
    REST name as the key of ``path_format_arguments``.
    """
    module_name, function = request.split(":")
    module = importlib.import_module(f"{package}.{module_name}")
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(module, function))))
    out: dict[str, dict[str, Any]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if not (
                isinstance(key, ast.Constant)
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "url"
            ):
                continue
            limits = {
                _MSREST_LIMITS[k.arg]: ast.literal_eval(k.value)
                for k in value.keywords
                if k.arg in _MSREST_LIMITS
            }
            out[str(key.value)] = {"type": "string", **limits}
    return out


def _azure_scalar_problems(value: Any, schema: dict[str, Any]) -> Iterator[str]:
    """As :func:`_scalar_problems`, enums compared without case.

    The azure-mgmt SDKs compare their enums that way (azure-core's
    ``CaseInsensitiveEnumMeta``): a value differing only in case is not reported, so a
    resource provider strict about case is the one thing this misses.
    """
    enum = schema.get("enum")
    if isinstance(value, str) and enum and all(isinstance(a, str) for a in enum):
        if value.casefold() not in {a.casefold() for a in enum}:
            yield f"{value!r} is not one of {_show_enum(list(enum))}"
        schema = {k: v for k, v in schema.items() if k != "enum"}
    step = schema.get("multipleOf")
    # Integer steps only: the fractional ones (0.01) are on read-only statistics.
    if _number(value) and isinstance(step, int) and step and float(value) % step:
        yield f"{_show(value)} is not a multiple of {step}"
    yield from _scalar_problems(value, schema)


# ---------------------------------------------------------------------- matching
def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _match(key: str, properties: Mapping[str, Any], rename: str | None) -> str | None:
    """The API field a Pulumi input key maps to: renamed, same name, or singular/plural."""
    by_norm = {_norm(name): name for name in properties}
    if rename is not None:
        return by_norm.get(_norm(rename))
    norm = _norm(key)
    for candidate in (norm, norm[:-1] if norm.endswith("s") else norm + "s", norm + "es"):
        if candidate in by_norm:
            return by_norm[candidate]
    return None


def _properties(schema: dict[str, Any], resolve: Resolve) -> dict[str, Any]:
    """Properties of an object schema, merged over its oneOf/anyOf/allOf alternatives."""
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for combinator in ("oneOf", "anyOf", "allOf"):
        for alternative in schema.get(combinator) or ():
            for name, sub in (resolve(alternative).get("properties") or {}).items():
                props.setdefault(name, sub)
    return props


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: Discovery's google-duration: seconds with up to nine fractional digits and an "s"
#: (https://protobuf.dev/reference/protobuf/google.protobuf/#duration, JSON mapping).
_DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")


def _scalar_problems(value: Any, schema: dict[str, Any]) -> Iterator[str]:
    """Why ``value`` is outside the schema's domain (nothing when the forms differ)."""
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    enum = schema.get("enum")
    if value == "":
        # The Terraform-bridged providers send no empty string for an optional field:
        # "" means unset (pulumi-gcp's documented Private Service Connect forwarding rule
        # sets load_balancing_scheme = "").
        return
    if enum is not None and isinstance(value, str | int | float) and not isinstance(value, bool):
        allowed = list(enum)
        numeric = [a for a in allowed if _number(a)]
        if _number(value) and numeric:
            if not any(math.isclose(float(value), float(a)) for a in numeric):
                yield f"{_show(value)} is not one of {_show_enum(allowed)}"
        elif (
            isinstance(value, str)
            and any(isinstance(a, str) for a in allowed)
            and value not in allowed
        ):
            yield f"{value!r} is not one of {_show_enum(allowed)}"
    if isinstance(value, str) and (not kinds or "string" in kinds):
        pattern = schema.get("pattern")
        if pattern:
            try:
                matched = re.search(pattern, value) is not None
            except re.error:  # ECMA-262 syntax Python lacks: not checked here
                matched = True
            if not matched:
                yield f"{value!r} does not match the pattern {pattern}"
        if schema.get("format") == "google-duration" and not _DURATION.fullmatch(value):
            yield f"{value!r} is not a duration in seconds with the suffix s (e.g. '3.5s')"
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        if lo is not None and len(value) < int(lo):
            yield f"{value!r} is shorter than {lo} characters"
        if hi is not None and len(value) > int(hi):
            yield f"{value!r} is longer than {hi} characters ({len(value)})"
    if _number(value) and (not kinds or kinds & {"integer", "number"}):
        if "integer" in kinds and float(value) != int(value):
            yield f"{_show(value)} is not an integer"
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and float(value) < float(lo):
            yield f"{_show(value)} is below the minimum {_show(lo)}"
        if hi is not None and float(value) > float(hi):
            yield f"{_show(value)} is above the maximum {_show(hi)}"


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _show_enum(allowed: list[Any]) -> str:
    shown = ", ".join(_show(a) for a in allowed[:30])
    return f"[{shown}{', ...' if len(allowed) > 30 else ''}]"


class _Walker:
    def __init__(self, resource: _Captured, api: ApiType, resolve: Resolve, out: Validation):
        self.resource, self.api, self.resolve, self.out = resource, api, resolve, out

    def object(self, value: dict[str, Any], node: Node, path: str, field: str) -> None:
        schema = self.resolve(node)
        props = _properties(schema, self.resolve)
        if not props:
            return  # a map or free-form object: keys are the user's, not the API's
        for key, item in value.items():
            sub_path = f"{path}.{key}" if path else key
            plain = re.sub(r"\[\d+\]", "", sub_path)
            if key == "tags" or plain in self.api.skip:
                continue
            rename = self.api.renames.get(plain)
            if rename == "." and isinstance(item, dict):
                self.object(item, schema, sub_path, field)
                continue
            target, name = self._follow(props, key, rename)
            if name is None:
                self.out.unmapped.add((self.resource.type, plain))
                continue
            self.value(item, target, sub_path, f"{field}.{name}")

    def _follow(
        self, props: dict[str, Any], key: str, rename: str | None
    ) -> tuple[Node, str | None]:
        """The field node a key maps to; a dotted rename walks nested API objects."""
        steps = rename.split(".") if rename else [None]
        node: Node = None
        names: list[str] = []
        for step in steps:
            name = _match(key, props, step)
            if name is None:
                return None, None
            node = props[name]
            names.append(name)
            props = _properties(self.resolve(node), self.resolve)
        return node, ".".join(names)

    def value(self, value: Any, node: Node, path: str, field: str) -> None:
        if value is None:
            return
        schema = self.resolve(node)
        if isinstance(value, dict):
            self.object(value, schema, path, field)
        elif isinstance(value, list):
            lo, hi = schema.get("minItems"), schema.get("maxItems")
            plain = re.sub(r"\[\d+\]", "", path)
            self.out.checked.add((self.resource.type, plain))
            if lo is not None and len(value) < int(lo):
                self.problem(path, field, value, f"has {len(value)} items, fewer than {lo}")
            if hi is not None and len(value) > int(hi):
                self.problem(path, field, value, f"has {len(value)} items, more than {hi}")
            if "items" in schema:
                for index, item in enumerate(value):
                    self.value(item, schema["items"], f"{path}[{index}]", field)
            elif _properties(schema, self.resolve) and len(value) == 1:
                # Terraform's single nested block (a list of one) is an object in the API.
                self.value(value[0], schema, f"{path}[0]", field)
        else:
            plain = re.sub(r"\[\d+\]", "", path)
            self.out.checked.add((self.resource.type, plain))
            for message in _scalar_problems(value, schema):
                self.problem(path, field, value, message)

    def problem(self, path: str, field: str, value: Any, message: str) -> None:
        self.out.problems.append(
            Problem(
                type=self.resource.type,
                name=self.resource.name,
                path=path,
                field=field,
                value=value,
                message=f"{path} = {message}; the API field {field} rejects it",
                source=self.api.source,
            )
        )


class _AzureWalker(_Walker):
    """The walker over azure-mgmt models: REST keys in fields, documented domains."""

    def _follow(
        self, props: dict[str, Any], key: str, rename: str | None
    ) -> tuple[Node, str | None]:
        node, name = super()._follow(props, key, rename)
        if name is not None and "." not in name and isinstance(props.get(name), dict):
            # a field azure-native flattens: name it by its REST key (properties.x)
            name = props[name].get("x-key", name)
        return node, name

    def value(self, value: Any, node: Node, path: str, field: str) -> None:
        if value is None or isinstance(value, dict | list):
            super().value(value, node, path, field)
            return
        plain = re.sub(r"\[\d+\]", "", path)
        schema = {**self.resolve(node), **self.api.documented.get(plain, {})}
        self.out.checked.add((self.resource.type, plain))
        for message in _azure_scalar_problems(value, schema):
            self.problem(path, field, value, message)


# -------------------------------------------------------------------- validation
def _root(api: ApiType, region: str) -> tuple[Node, Resolve] | None:
    """The model node the Pulumi inputs of ``api`` start at, and how to resolve refs."""
    if api.model == "cfn":
        schema = _cfn_schema(region, api.name)
        if schema is None:
            return None
        resolve = _cfn_resolver(schema)
        node: Node = {"properties": schema["properties"]}
        for step in api.root:
            node = _properties(resolve(node), resolve)[step]
        resolved = resolve(node)
        if isinstance(resolved, dict) and resolved.get("type") == "array" and "items" in resolved:
            # A list in the template (a rule's Targets, a detector's Features): each
            # Pulumi resource is one item.
            node = resolved["items"]
        return node, resolve
    if api.model == "botocore":
        service, operation = api.name.split(".")
        model = _botocore_session().get_service_model(service)
        return model.operation_model(operation).input_shape, _botocore_resolve
    if api.model == "discovery":
        doc, schema_name = api.name.rsplit(".", 1)
        return {"$ref": schema_name}, _discovery_resolver(doc)
    if api.model == "azure-mgmt":
        package, model = api.name.split(":")
        resolve = _azure_resolver(package)
        body = getattr(_azure_models(package), model)
        # The resource's own name and its parents' are URL parameters of the create call.
        fields = {**_azure_properties(body, package), **_azure_url_parameters(package, api.request)}
        return {"properties": fields}, resolve
    raise ValueError(f"unknown API model {api.model!r}")


def validate(
    cloud: str, resources: Iterable[_Captured], *, region: str | None = None
) -> Validation:
    """Check every input of ``resources`` that maps to an API field against its domain.

    Args:
        cloud: ``aws``, ``gcp`` or ``azure`` (the azure-mgmt-* models of the REST API
            versions pulumi-azure-native uses: enums, lengths, patterns, ranges, and
            the limits of the resource names in the create call's URL).
        resources: captured resources of a mock run (components are skipped).
        region: the AWS region whose CloudFormation schemas apply; a type the region
            does not offer is itself a problem. Defaults to us-east-1.

    Returns:
        The problems found, and which inputs were checked or could not be mapped.
    """
    table = {"aws": AWS_TYPES, "gcp": GCP_TYPES, "azure": AZURE_TYPES}[cloud]
    prefix = "azure-native:" if cloud == "azure" else f"{cloud}:"
    out = Validation()
    where = region or "us-east-1"
    for resource in resources:
        api = table.get(resource.type)
        if api is None:
            if resource.type.startswith(prefix) and resource.type not in _NO_MODEL:
                out.unknown_types.add(resource.type)
            continue
        root = _root(api, where)
        if root is None:
            out.problems.append(
                Problem(
                    resource.type,
                    resource.name,
                    "",
                    api.name,
                    where,
                    f"the region {where} does not offer {api.name}",
                    api.source,
                )
            )
            continue
        node, resolve = root
        walker = (_AzureWalker if api.model == "azure-mgmt" else _Walker)(
            resource, api, resolve, out
        )
        walker.object(resource.inputs, node, "", ".".join((api.name, *api.root)))
    return out


# ------------------------------------------------------------- region offering
def _region_types_file() -> Path:
    catalog = importlib.import_module("aiscaffold_components.catalog")
    return Path(str(catalog.__file__)).parent / "region_types.yaml"


#: The data file :func:`region_problem` reads (written by scripts/gen_region_types.py).
REGION_TYPES_FILE = _region_types_file()

#: Where the region offering comes from, for the data file's header and the messages.
_OFFERING_SOURCE = (
    "the CloudFormation resource schemas cfn-lint ships per region "
    "(https://github.com/aws-cloudformation/cfn-lint/tree/main/src/cfnlint/data/schemas/providers) "
    "and botocore's endpoints"
)


def _api_needs(types: Iterable[str]) -> list[str]:
    """The API resource types (CloudFormation types, ``api:<service>``) Pulumi types need."""
    needs: set[str] = set()
    for pulumi_type in types:
        api = AWS_TYPES.get(pulumi_type)
        if api is None:
            continue
        needs.add(api.name if api.model == "cfn" else "api:" + api.name.split(".")[0])
    return sorted(needs)


def _offered(region: str, need: str) -> bool:
    if need.startswith("api:"):
        session = _botocore_session()
        service = need.removeprefix("api:")
        return any(
            region in session.get_available_regions(service, partition_name=partition)
            for partition in session.get_available_partitions()
        )
    return _cfn_schema(region, need) is not None


def _cfn_regions() -> list[str]:
    providers = (
        Path(str(importlib.import_module("cfnlint").__file__)).parent / "data/schemas/providers"
    )
    return sorted(p.stem for p in providers.glob("*.json") if p.stem != "sam")


def project_needs(project: Path, resources: Iterable[_Captured]) -> tuple[str, str, set[str]]:
    """The cloud, AI service and resource types of a generated project's mock run."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return answers["cloud"], answers["ai_service"], {r.type for r in resources}


def region_types_document(needed: Mapping[str, Iterable[str]]) -> str:
    """The text of the region offering data file.

    Args:
        needed: per AWS AI service, the Pulumi types its generated projects register (from
            their mock runs).

    Returns:
        YAML: per AI service the API resource types it needs, and per region (every
        region cfn-lint has schemas for) those of them the region does not offer.
    """
    needs = {service: _api_needs(types) for service, types in sorted(needed.items())}
    every = sorted({need for items in needs.values() for need in items})
    missing = {
        region: [need for need in every if not _offered(region, need)] for region in _cfn_regions()
    }
    versions = {
        name: importlib.import_module("importlib.metadata").version(name)
        for name in ("cfn-lint", "botocore")
    }
    header = (
        "# Generated by scripts/gen_region_types.py: do not edit.\n"
        f"# Source: {_OFFERING_SOURCE};\n"
        f"# cfn-lint {versions['cfn-lint']}, botocore {versions['botocore']}.\n"
        "# needs: per AI service, the API resource types its generated projects register;\n"
        "# missing: per region, those of them the region does not offer.\n"
    )
    body = {"aws": {"needs": needs, "missing": missing}}
    return header + yaml.safe_dump(body, sort_keys=True, width=100)


@functools.cache
def _region_types() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REGION_TYPES_FILE.read_text(encoding="utf-8"))
    return data


def region_problem(cloud: str, ai_service: str, region: str) -> str | None:
    """Why ``region`` cannot host a ``cloud``/``ai_service`` project, or None.

    Reads the generated data file only (no cloud SDK, no cfn-lint). Clouds, services and
    regions the file does not cover give None: their validity is checked elsewhere (the
    catalog's region lists), and no machine-readable offering exists for them (Azure and
    GCP publish none offline).

    Example: ``region_problem("aws", "bedrock", "af-south-1")`` names
    ``AWS::Bedrock::Guardrail``, which that region does not offer.
    """
    data = _region_types().get(cloud)
    if not data or ai_service not in data["needs"] or region not in data["missing"]:
        return None
    needs = set(data["needs"][ai_service])
    lacking = [need for need in data["missing"][region] if need in needs]
    if not lacking:
        return None
    return (
        f"region {region} does not offer {', '.join(lacking)}, which a {cloud} "
        f"{ai_service} project needs (per {_OFFERING_SOURCE}); choose another region"
    )

"""AWS (pulumi-aws) outputs and invokes for the mocks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "123456789012"


def region(config: dict[str, str]) -> str:
    return config.get("aws:region", "us-east-1")


def partition(config: dict[str, str]) -> str:
    return "aws-us-gov" if region(config).startswith("us-gov-") else "aws"


def _suffix(name: str, length: int = 8) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def _arn(
    service: str,
    resource: str,
    config: dict[str, str],
    *,
    regional: bool = True,
    account: bool = True,
) -> str:
    return (
        f"arn:{partition(config)}:{service}:{region(config) if regional else ''}:"
        f"{ACCOUNT_ID if account else ''}:{resource}"
    )


def outputs(
    type_: str, name: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """The id and outputs AWS would report for a new resource."""
    module, _, kind = type_.split(":")[1].partition("/")
    resource = type_.split(":")[2]
    physical = inputs.get("name") or inputs.get("bucket") or f"{name}-{_suffix(name, 7)}"
    out: dict[str, Any] = {"arn": _arn(module, f"{kind.lower()}/{physical}", config)}
    resource_id = str(physical)
    special = _SPECIAL.get(f"{module}:{resource}")
    if special is not None:
        resource_id, extra = special(name, str(physical), inputs, config)
        out.update(extra)
    if "name" not in inputs and module not in _NAMELESS:
        out["name"] = physical
    out.setdefault("id", resource_id)
    out.setdefault("tagsAll", inputs.get("tags", {}))
    return resource_id, out


# Modules whose resources have no `name` output.
_NAMELESS = {"s3", "ec2", "cloudtrail"}

_Special = Callable[[str, str, dict[str, Any], dict[str, str]], tuple[str, dict[str, Any]]]


def _key(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    h = hashlib.sha256(name.encode()).hexdigest()
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return key_id, {"keyId": key_id, "arn": _arn("kms", f"key/{key_id}", config)}


def _alias(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    alias = inputs.get("name", f"alias/{physical}")
    return alias, {
        "arn": _arn("kms", alias, config),
        "targetKeyArn": _arn("kms", f"key/{inputs.get('targetKeyId', '')}", config),
    }


def _bucket(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    prefix = inputs.get("bucketPrefix")
    bucket = inputs.get("bucket") or (
        f"{prefix}{_suffix(name, 26)}" if prefix else f"{name}-{_suffix(name)}"
    )
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:{partition(config)}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{region(config)}.amazonaws.com",
        "region": region(config),
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }


def _vpc(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    vpc_id = f"vpc-{_suffix(name, 17)}"
    return vpc_id, {
        "arn": _arn("ec2", f"vpc/{vpc_id}", config),
        "defaultSecurityGroupId": f"sg-{_suffix(name + 'sg', 17)}",
        "defaultNetworkAclId": f"acl-{_suffix(name + 'acl', 17)}",
        "defaultRouteTableId": f"rtb-{_suffix(name + 'rtb', 17)}",
        "mainRouteTableId": f"rtb-{_suffix(name + 'rtb', 17)}",
        "ownerId": ACCOUNT_ID,
    }


def _prefixed(prefix: str, service: str, kind: str) -> _Special:
    def build(
        name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        rid = f"{prefix}-{_suffix(name, 17)}"
        return rid, {"arn": _arn(service, f"{kind}/{rid}", config), "ownerId": ACCOUNT_ID}

    return build


def _vpc_endpoint(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = f"vpce-{_suffix(name, 17)}"
    service = str(inputs.get("serviceName", ""))
    return rid, {
        "arn": _arn("ec2", f"vpc-endpoint/{rid}", config),
        "dnsEntries": [
            {
                "dnsName": f"{rid}.{service.split('.')[-1]}.{region(config)}.vpce.amazonaws.com",
                "hostedZoneId": "Z7HUB22UULQXV",
            }
        ],
        "networkInterfaceIds": [f"eni-{_suffix(name + str(i), 17)}" for i in range(2)],
        "prefixListId": f"pl-{_suffix(name, 8)}",
        "cidrBlocks": [],
        "ownerId": ACCOUNT_ID,
        "state": "available",
    }


def _role(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return physical, {
        "arn": _arn("iam", f"role/{physical}", config, regional=False),
        "uniqueId": f"AROA{_suffix(name, 17).upper()}",
    }


def _policy(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    arn = _arn("iam", f"policy/{physical}", config, regional=False)
    return arn, {"arn": arn, "policyId": f"ANPA{_suffix(name, 17).upper()}"}


def _oidc_provider_resource(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    # IAM names an OIDC provider by its issuer's host (one per URL and account).
    host = str(inputs.get("url", physical)).removeprefix("https://")
    arn = _arn("iam", f"oidc-provider/{host}", config, regional=False)
    return arn, {"arn": arn}


def _log_group(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return physical, {"arn": _arn("logs", f"log-group:{physical}", config)}


def _secret(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    arn = _arn("secretsmanager", f"secret:{physical}-{_suffix(name, 6)}", config)
    return arn, {"arn": arn}


def _topic(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """An SNS topic: its ARN ends with the bare name (``...:<account>:<name>``), and SNS
    uses the ARN as the id. The AWS::CE::AnomalySubscription schema checks the pattern."""
    arn = _arn("sns", physical, config)
    return arn, {"arn": arn}


def _trail(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return physical, {
        "arn": _arn("cloudtrail", f"trail/{physical}", config),
        "homeRegion": region(config),
    }


def _guardrail(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    gid = _suffix(name, 12)
    arn = _arn("bedrock", f"guardrail/{gid}", config)
    return f"{gid},DRAFT", {
        "guardrailId": gid,
        "guardrailArn": arn,
        "version": "DRAFT",
        "status": "READY",
    }


def _guardrail_version(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return f"{inputs.get('guardrailArn', '')},1", {"version": "1"}


def _eip(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = f"eipalloc-{_suffix(name, 17)}"
    return rid, {
        "arn": _arn("ec2", f"elastic-ip/{rid}", config),
        "allocationId": rid,
        "publicIp": "203.0.113.10",
        "ownerId": ACCOUNT_ID,
    }


def _sagemaker(kind: str) -> _Special:
    def build(
        name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        # A domain's id is generated (d-xxxxxxxxxxxx); its name is only a label.
        if kind == "domain":
            rid = f"d-{_suffix(name, 12)}"
        else:
            rid = inputs.get("name") or f"{name}-{_suffix(name, 7)}"
        return str(rid), {
            "arn": _arn("sagemaker", f"{kind}/{rid}", config),
            "url": f"https://{rid}.studio.{region(config)}.sagemaker.aws",
            "homeEfsFileSystemId": f"fs-{_suffix(name, 8)}",
            "securityGroupIdForDomainBoundary": f"sg-{_suffix(name + 'dom', 17)}",
        }

    return build


def _rest_api(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    # API Gateway generates a 10-character id; the execution ARN names it.
    rid = _suffix(name, 10)
    return rid, {
        "arn": f"arn:{partition(config)}:apigateway:{region(config)}::/restapis/{rid}",
        "executionArn": _arn("execute-api", rid, config),
        "rootResourceId": _suffix(name + "root", 10),
    }


def _stage(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    api, stage = inputs.get("restApi", ""), inputs.get("stageName", "")
    return f"ags-{api}-{stage}", {
        "arn": f"arn:{partition(config)}:apigateway:{region(config)}::/restapis/{api}/stages/{stage}",
        "invokeUrl": f"https://{api}.execute-api.{region(config)}.amazonaws.com/{stage}",
        "executionArn": _arn("execute-api", f"{api}/{stage}", config),
    }


def _generated(length: int = 6) -> _Special:
    """Resources API Gateway names with a generated id (resources, authorizers...)."""

    def build(
        name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        return _suffix(name, length), {}

    return build


def _function(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    arn = _arn("lambda", f"function:{physical}", config)
    return str(physical), {
        "arn": arn,
        "invokeArn": (
            f"arn:{partition(config)}:apigateway:{region(config)}:lambda:path/2015-03-31/"
            f"functions/{arn}/invocations"
        ),
        "qualifiedArn": f"{arn}:$LATEST",
        "version": "$LATEST",
    }


def _web_acl(
    name: str, physical: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = f"{_suffix(name, 8)}-0000-4000-8000-{_suffix(name + 'acl', 12)}"
    return rid, {"arn": _arn("wafv2", f"regional/webacl/{physical}/{rid}", config)}


_SPECIAL: dict[str, _Special] = {
    "kms:Key": _key,
    "kms:Alias": _alias,
    "s3:Bucket": _bucket,
    "ec2:Vpc": _vpc,
    "ec2:Subnet": _prefixed("subnet", "ec2", "subnet"),
    "ec2:SecurityGroup": _prefixed("sg", "ec2", "security-group"),
    "ec2:RouteTable": _prefixed("rtb", "ec2", "route-table"),
    "ec2:NetworkAcl": _prefixed("acl", "ec2", "network-acl"),
    "ec2:InternetGateway": _prefixed("igw", "ec2", "internet-gateway"),
    "ec2:NatGateway": _prefixed("nat", "ec2", "natgateway"),
    "ec2:Eip": _eip,
    "ec2:FlowLog": _prefixed("fl", "ec2", "vpc-flow-log"),
    "ec2:VpcEndpoint": _vpc_endpoint,
    "iam:Role": _role,
    "iam:Policy": _policy,
    "iam:OpenIdConnectProvider": _oidc_provider_resource,
    "cloudwatch:LogGroup": _log_group,
    "secretsmanager:Secret": _secret,
    "cloudtrail:Trail": _trail,
    "sns:Topic": _topic,
    "bedrock:Guardrail": _guardrail,
    "bedrock:GuardrailVersion": _guardrail_version,
    "sagemaker:Domain": _sagemaker("domain"),
    "sagemaker:NotebookInstance": _sagemaker("notebook-instance"),
    "apigateway:RestApi": _rest_api,
    "apigateway:Stage": _stage,
    "apigateway:Resource": _generated(),
    "apigateway:Authorizer": _generated(),
    "apigateway:Deployment": _generated(),
    "apigateway:UsagePlan": _generated(),
    "apigateway:ApiKey": _generated(10),
    "apigatewayv2:VpcLink": _generated(),
    "lambda:Function": _function,
    "wafv2:WebAcl": _web_acl,
}


# ---------------------------------------------------------------- invokes
def _caller_identity(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:{partition(config)}:iam::{ACCOUNT_ID}:user/mock",
        "userId": "AIDAMOCKUSER",
        "id": ACCOUNT_ID,
    }


def _oidc_provider(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    """An IAM OIDC provider that exists: its ARN names the issuer's host."""
    url = str(args.get("url") or "https://token.actions.githubusercontent.com")
    host = url.removeprefix("https://")
    return {
        "arn": args.get("arn") or _arn("iam", f"oidc-provider/{host}", config, regional=False),
        "url": host,
        "clientIdLists": ["sts.amazonaws.com"],
        "thumbprintLists": [],
        "tags": {},
        "id": host,
    }


def _region(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    name = args.get("region") or args.get("name") or region(config)
    return {
        "region": name,
        "name": name,
        "id": name,
        "endpoint": f"ec2.{name}.amazonaws.com",
        "description": name,
    }


def _partition(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    part = partition(config)
    return {
        "partition": part,
        "id": part,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


#: How AWS abbreviates a region's direction in zone ids (``apse2-az1``).
_DIRECTIONS = {"northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw"}


def _zone_id_prefix(name: str) -> str:
    """The zone id prefix AWS uses for a region: ``us-east-1`` -> ``use1``."""
    first, *middle, number = name.split("-")
    return first + "".join(_DIRECTIONS.get(m, m[:1]) for m in middle) + number


def _zones(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    name = region(config)
    letters = "abc"
    return {
        "id": name,
        "names": [f"{name}{x}" for x in letters],
        "zoneIds": [f"{_zone_id_prefix(name)}-az{i + 1}" for i in range(len(letters))],
        "groupNames": [name],
        "state": args.get("state", "available"),
    }


def _endpoint_service(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    """An AWS endpoint service, offered in every zone of the region (as most are)."""
    name = args.get("service_name") or args.get("serviceName") or ""
    service_type = args.get("service_type") or args.get("serviceType") or "Interface"
    return {
        "id": _suffix(str(name)),
        "serviceName": name,
        "serviceType": service_type,
        "service": str(name).rsplit(".", 1)[-1],
        "availabilityZones": _zones({}, config)["names"],
        "acceptanceRequired": False,
        "managesVpcEndpoints": False,
        "owner": "amazon",
        "privateDnsName": f"{str(name).rsplit('.', 1)[-1]}.{region(config)}.amazonaws.com",
        "region": region(config),
        "serviceId": f"vpce-svc-{_suffix(str(name), 17)}",
        "vpcEndpointPolicySupported": True,
        "supportedIpAddressTypes": ["ipv4"],
        "baseEndpointDnsNames": [],
        "privateDnsNames": [],
        "serviceRegions": [],
        "tags": {},
    }


def _single(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _principals(items: list[dict[str, Any]]) -> Any:
    if len(items) == 1 and items[0].get("type") == "*":
        return "*"
    out: dict[str, Any] = {}
    for item in items:
        out.setdefault(item["type"], []).extend(item.get("identifiers", []))
    return {k: _single(sorted(set(v), key=v.index)) for k, v in out.items()}


def policy_document(
    statements: list[dict[str, Any]], version: str = "2012-10-17", policy_id: str | None = None
) -> dict[str, Any]:
    """The IAM JSON ``iam.get_policy_document`` would build from these statements."""
    doc: dict[str, Any] = {"Version": version}
    if policy_id:
        doc["Id"] = policy_id
    built = []
    for st in statements:
        entry: dict[str, Any] = {}
        if st.get("sid"):
            entry["Sid"] = st["sid"]
        entry["Effect"] = st.get("effect") or "Allow"
        for key, field in (
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
            ("notResources", "NotResource"),
        ):
            if st.get(key):
                entry[field] = _single(list(st[key]))
        for key, field in (
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
            ("notPrincipals", "NotPrincipal"),
        ):
            if st.get(key):
                entry[field] = _principals(st[key])
        if st.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for cond in st["conditions"]:
                condition.setdefault(cond["test"], {})[cond["variable"]] = _single(
                    list(cond["values"])
                )
            entry["Condition"] = condition
        built.append(entry)
    doc["Statement"] = built
    return doc


def _policy_document(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    statements: list[dict[str, Any]] = []
    for source in args.get("source_policy_documents", args.get("sourcePolicyDocuments")) or []:
        statements.extend(_from_json(source))
    statements.extend(args.get("statements") or [])
    doc = policy_document(
        statements, args.get("version") or "2012-10-17", args.get("policy_id", args.get("policyId"))
    )
    text = json.dumps(doc, indent=2)
    return {
        "json": text,
        "minifiedJson": json.dumps(doc, separators=(",", ":")),
        "id": _suffix(text),
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _from_json(source: str) -> list[dict[str, Any]]:
    """Turn an IAM JSON document back into get_policy_document statement args."""
    doc = json.loads(source)
    out = []
    for st in doc.get("Statement", []):
        entry: dict[str, Any] = {"effect": st.get("Effect", "Allow")}
        if "Sid" in st:
            entry["sid"] = st["Sid"]
        for field, key in (
            ("Action", "actions"),
            ("NotAction", "not_actions"),
            ("Resource", "resources"),
            ("NotResource", "not_resources"),
        ):
            if field in st:
                entry[key] = _as_list(st[field])
        if "Principal" in st:
            principal = st["Principal"]
            entry["principals"] = (
                [{"type": "*", "identifiers": ["*"]}]
                if principal == "*"
                else [{"type": k, "identifiers": _as_list(v)} for k, v in principal.items()]
            )
        if "Condition" in st:
            entry["conditions"] = [
                {"test": test, "variable": var, "values": _as_list(values)}
                for test, variables in st["Condition"].items()
                for var, values in variables.items()
            ]
        out.append(entry)
    return out


INVOKES: dict[str, Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": _endpoint_service,
    "aws:iam/getPolicyDocument:getPolicyDocument": _policy_document,
    "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": _oidc_provider,
}

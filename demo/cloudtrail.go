package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// CloudTrail records of the demo company's AWS account: everyday activity
// of people, CI and services, and the suspicious activity the CloudTrail
// app's dashboards and security checks look for. Field shapes follow real
// CloudTrail records (eventVersion 1.08-1.10).

const (
	accountID = "493817266052"
	orgDomain = "dohyo-demo.com"
)

type ctRecord struct {
	EventVersion                 string       `json:"eventVersion"`
	UserIdentity                 *ctIdentity  `json:"userIdentity"`
	EventTime                    string       `json:"eventTime"`
	EventSource                  string       `json:"eventSource"`
	EventName                    string       `json:"eventName"`
	AWSRegion                    string       `json:"awsRegion"`
	SourceIPAddress              string       `json:"sourceIPAddress"`
	UserAgent                    string       `json:"userAgent"`
	ErrorCode                    string       `json:"errorCode,omitempty"`
	ErrorMessage                 string       `json:"errorMessage,omitempty"`
	RequestParameters            any          `json:"requestParameters"`
	ResponseElements             any          `json:"responseElements"`
	AdditionalEventData          any          `json:"additionalEventData,omitempty"`
	RequestID                    string       `json:"requestID,omitempty"`
	EventID                      string       `json:"eventID"`
	ReadOnly                     bool         `json:"readOnly"`
	Resources                    []ctResource `json:"resources,omitempty"`
	EventType                    string       `json:"eventType"`
	ManagementEvent              bool         `json:"managementEvent"`
	RecipientAccountID           string       `json:"recipientAccountId"`
	SharedEventID                string       `json:"sharedEventID,omitempty"`
	VPCEndpointID                string       `json:"vpcEndpointId,omitempty"`
	EventCategory                string       `json:"eventCategory"`
	TLSDetails                   *ctTLS       `json:"tlsDetails,omitempty"`
	SessionCredentialFromConsole string       `json:"sessionCredentialFromConsole,omitempty"`
}

type ctIdentity struct {
	Type           string            `json:"type"`
	PrincipalID    string            `json:"principalId,omitempty"`
	ARN            string            `json:"arn,omitempty"`
	AccountID      string            `json:"accountId,omitempty"`
	AccessKeyID    *string           `json:"accessKeyId,omitempty"`
	UserName       string            `json:"userName,omitempty"`
	SessionContext *ctSessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string            `json:"invokedBy,omitempty"`
}

type ctSessionContext struct {
	SessionIssuer       any          `json:"sessionIssuer"`
	WebIDFederationData any          `json:"webIdFederationData"`
	Attributes          ctAttributes `json:"attributes"`
}

type ctAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type ctIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type ctResource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

type ctTLS struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// obj is a JSON object in requestParameters and responseElements.
type obj = map[string]any

// principal is someone or something acting in the account.
type principal struct {
	key       string // short name used in the tables below
	kind      string // IAMUser, AssumedRole, Root, AWSService
	name      string // user name, or the session name of a role
	role      string // role name (AssumedRole)
	rolePath  string // path of the role's ARN ("aws-reserved/sso.amazonaws.com/")
	id        string // AIDA... (user) or AROA... (role)
	accessKey string // long-term key of an IAM user (AKIA...)
	country   string
	ips       []string // where it usually acts from
	agents    []string // its usual user agents
	console   bool     // signs in to the console
	service   string   // for AWSService: the service principal
}

func (p *principal) arn() string {
	switch p.kind {
	case "Root":
		return "arn:aws:iam::" + accountID + ":root"
	case "AssumedRole":
		return "arn:aws:sts::" + accountID + ":assumed-role/" + p.role + "/" + p.name
	}
	return "arn:aws:iam::" + accountID + ":user/" + p.name
}

func (p *principal) roleARN() string {
	return "arn:aws:iam::" + accountID + ":role/" + p.rolePath + p.role
}

// displayName is who the app's "user" field resolves to.
func (p *principal) displayName() string {
	if p.kind == "Root" {
		return "root"
	}
	return p.name
}

const (
	uaConsole   = "AWS Internal"
	uaCLI       = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#"
	uaTerraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.78.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.5 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.193.0"
	uaJavaSDK   = "aws-sdk-java/2.29.20 Linux/5.10.228-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy"
	uaBoto3     = "Boto3/1.35.68 md/Botocore#1.35.68 ua/2.0 os/linux#5.10.228-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.68"
	uaDatadog   = "Datadog AWS Integration aws-sdk-go/1.55.5 (go1.22.8; linux; amd64)"
	uaBrowser   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaBrowserW  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	uaAttacker  = "aws-cli/1.18.69 Python/2.7.18 Linux/4.19.0-kali5-amd64 botocore/1.16.19"
	uaPacu      = "Boto3/1.17.112 Python/3.9.2 Linux/5.10.0-kali7-amd64 Botocore/1.20.112"
)

func upperID(rng *rand.Rand, prefix string, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(prefix)
	for i := 0; i < n; i++ {
		b = append(b, chars[rng.IntN(len(chars))])
	}
	return string(b)
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	b = b&^(0xf<<60) | 0x8<<60 // variant 10xx
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func hexID(rng *rand.Rand, n int) string {
	const chars = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(16)]
	}
	return string(b)
}

// newPrincipals builds the people, pipelines and services of the account.
func newPrincipals(rng *rand.Rand) map[string]*principal {
	ps := map[string]*principal{}
	add := func(p *principal) { ps[p.key] = p }
	user := func(key, name, country string, console bool, agents ...string) *principal {
		p := &principal{key: key, kind: "IAMUser", name: name, id: upperID(rng, "AIDAXF", 15), accessKey: upperID(rng, "AKIAXF", 14),
			country: country, console: console, agents: agents}
		p.ips = []string{addrIn(rng, customerRanges, country), addrIn(rng, customerRanges, country)}
		return p
	}
	add(user("alice", "alice.nguyen", "US", true, uaConsole, uaCLI))
	add(user("bob", "bob.schmidt", "DE", true, uaConsole, uaCLI, uaTerraform))
	add(user("carol", "carol.tanaka", "JP", true, uaConsole, uaCLI))
	add(user("dave", "dave.okafor", "US", true, uaConsole, uaCLI, uaTerraform))
	add(user("erin", "erin.walsh", "GB", true, uaConsole))
	add(user("frank", "frank.miller-contractor", "CA", true, uaConsole))
	ci := user("ci", "ci-deploy", "US", false, uaTerraform, uaCLI)
	ci.ips = []string{randomAddr(rng, awsUSEast1Range), randomAddr(rng, awsUSEast1Range), randomAddr(rng, awsUSEast1Range)}
	add(ci)
	role := func(key, roleName, path, session, country string, agents ...string) *principal {
		p := &principal{key: key, kind: "AssumedRole", name: session, role: roleName, rolePath: path, id: upperID(rng, "AROAXF", 15),
			country: country, agents: agents}
		if country == "AWS" {
			p.ips = []string{randomAddr(rng, awsUSEast1Range), randomAddr(rng, awsUSEast1Range)}
			p.country = "US"
		} else {
			p.ips = []string{addrIn(rng, customerRanges, country)}
		}
		return p
	}
	ssoAdmin := "AWSReservedSSO_AdministratorAccess_" + hexID(rng, 16)
	ssoDev := "AWSReservedSSO_PowerUserAccess_" + hexID(rng, 16)
	ssoPath := "aws-reserved/sso.amazonaws.com/"
	add(role("sso-alice", ssoAdmin, ssoPath, "alice.nguyen@"+orgDomain, "US", uaConsole, uaCLI))
	add(role("sso-bob", ssoDev, ssoPath, "bob.schmidt@"+orgDomain, "DE", uaConsole, uaCLI, uaTerraform))
	add(role("sso-carol", ssoDev, ssoPath, "carol.tanaka@"+orgDomain, "JP", uaConsole, uaCLI))
	add(role("payments", "payments-api-task-role", "", hexID(rng, 32), "AWS", uaJavaSDK))
	add(role("datadog", "DatadogIntegrationRole", "", "DatadogAWSIntegration", "AWS", uaDatadog))
	add(role("gha", "github-actions-deploy", "", "GitHubActions", "AWS", uaTerraform))
	add(role("lambda", "settlement-export-lambda-role", "", "settlement-export", "AWS", uaBoto3))
	add(&principal{key: "root", kind: "Root", name: "root", country: "US", ips: []string{ps["alice"].ips[0]}, agents: []string{uaConsole}})
	add(&principal{key: "ecs", kind: "AWSService", service: "ecs-tasks.amazonaws.com"})
	return ps
}

var regions = []weighted[string]{{"us-east-1", 60}, {"eu-west-1", 18}, {"us-west-2", 12}, {"ap-northeast-1", 6}, {"eu-central-1", 4}}

// ctBuilder makes one record.
type ctBuilder struct {
	g   *Generator
	rng *rand.Rand
}

func (b ctBuilder) identity(p *principal, t time.Time, mfa bool, consoleSession bool) *ctIdentity {
	rng := b.rng
	empty := ""
	created := t.Add(-time.Duration(1+rng.IntN(50)) * time.Minute).UTC().Format(time.RFC3339)
	mfaS := "false"
	if mfa {
		mfaS = "true"
	}
	switch p.kind {
	case "AWSService":
		return &ctIdentity{Type: "AWSService", InvokedBy: p.service}
	case "Root":
		key := upperID(rng, "ASIAXF", 14)
		return &ctIdentity{Type: "Root", PrincipalID: accountID, ARN: p.arn(), AccountID: accountID, AccessKeyID: &key,
			SessionContext: &ctSessionContext{SessionIssuer: obj{}, WebIDFederationData: obj{}, Attributes: ctAttributes{created, mfaS}}}
	case "AssumedRole":
		key := upperID(rng, "ASIAXF", 14)
		return &ctIdentity{Type: "AssumedRole", PrincipalID: p.id + ":" + p.name, ARN: p.arn(), AccountID: accountID, AccessKeyID: &key,
			SessionContext: &ctSessionContext{
				SessionIssuer:       ctIssuer{Type: "Role", PrincipalID: p.id, ARN: p.roleARN(), AccountID: accountID, UserName: p.role},
				WebIDFederationData: obj{},
				Attributes:          ctAttributes{created, mfaS},
			}}
	}
	id := &ctIdentity{Type: "IAMUser", PrincipalID: p.id, ARN: p.arn(), AccountID: accountID, UserName: p.name}
	if consoleSession {
		key := upperID(rng, "ASIAXF", 14)
		id.AccessKeyID = &key
		id.SessionContext = &ctSessionContext{SessionIssuer: obj{}, WebIDFederationData: obj{}, Attributes: ctAttributes{created, mfaS}}
	} else if p.accessKey != "" {
		k := p.accessKey
		id.AccessKeyID = &k
	} else {
		id.AccessKeyID = &empty
	}
	return id
}

// record starts a record for an API call by p.
func (b ctBuilder) record(p *principal, t time.Time, source, name, region string) *ctRecord {
	rng := b.rng
	if region == "" {
		region = pick(rng, regions)
	}
	if source == "iam.amazonaws.com" || source == "sts.amazonaws.com" && name == "GetCallerIdentity" || source == "signin.amazonaws.com" {
		region = "us-east-1"
	}
	ua := uaConsole
	if len(p.agents) > 0 {
		ua = oneOf(rng, p.agents...)
	}
	if ua == uaCLI {
		ua += strings.ToLower(strings.TrimSuffix(source, ".amazonaws.com")) + "." + kebab(name)
	}
	consoleSession := ua == uaConsole && p.kind == "IAMUser"
	r := &ctRecord{
		EventVersion:       "1.09",
		UserIdentity:       b.identity(p, t, p.console || p.kind == "Root", consoleSession),
		EventTime:          t.UTC().Format(time.RFC3339),
		EventSource:        source,
		EventName:          name,
		AWSRegion:          region,
		SourceIPAddress:    b.sourceIP(p),
		UserAgent:          ua,
		RequestID:          uuid(rng),
		EventID:            uuid(rng),
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: accountID,
		EventCategory:      "Management",
	}
	if ua == uaConsole && p.kind != "AWSService" {
		r.SessionCredentialFromConsole = "true"
	}
	if p.kind == "AWSService" {
		r.SourceIPAddress, r.UserAgent = p.service, p.service
	} else {
		r.TLSDetails = &ctTLS{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: hostHeader(source, region)}
	}
	readOnly := strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "Head") || name == "Decrypt" || name == "LookupEvents"
	r.ReadOnly = readOnly
	return r
}

func (b ctBuilder) sourceIP(p *principal) string {
	if len(p.ips) == 0 {
		return p.service
	}
	return oneOf(b.rng, p.ips...)
}

func hostHeader(source, region string) string {
	svc := strings.TrimSuffix(source, ".amazonaws.com")
	switch svc {
	case "iam", "signin":
		return svc + ".amazonaws.com"
	case "s3":
		return "s3." + region + ".amazonaws.com"
	}
	return svc + "." + region + ".amazonaws.com"
}

// kebab turns "DescribeInstances" into "describe-instances".
func kebab(s string) string {
	var b strings.Builder
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *ctRecord) json() string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		// Only our own types are encoded: this cannot happen.
		panic(fmt.Sprintf("demo: encode CloudTrail record: %v", err))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func (r *ctRecord) deny(service, action, resource string, ec2Style bool, p *principal) {
	if ec2Style {
		r.ErrorCode = "Client.UnauthorizedOperation"
		r.ErrorMessage = "You are not authorized to perform this operation. User: " + p.arn() + " is not authorized to perform: " + service + ":" + action + " because no identity-based policy allows the " + service + ":" + action + " action"
		return
	}
	r.ErrorCode = "AccessDenied"
	r.ErrorMessage = "User: " + p.arn() + " is not authorized to perform: " + service + ":" + action + " on resource: " + resource + " because no identity-based policy allows the " + service + ":" + action + " action"
}

var (
	buckets       = []string{"dohyo-demo-web-assets", "dohyo-demo-settlements", "dohyo-demo-terraform-state", "dohyo-demo-logs", "dohyo-demo-customer-exports", "dohyo-demo-marketing-assets"}
	instanceTypes = []string{"t3.medium", "m6i.large", "c6i.xlarge", "t3.small"}
	subnets       = []string{"subnet-0a1b2c3d4e5f60718", "subnet-09f8e7d6c5b4a3921", "subnet-0c0ffee1234567890"}
	vpcID         = "vpc-0d3f5a7c9e1b24680"
	secGroups     = []string{"sg-0a12b34c56d78e901", "sg-0f9e8d7c6b5a49382", "sg-05c4b3a29180f7e6d"}
	instanceIDs   = []string{"i-0a1b2c3d4e5f67890", "i-0f1e2d3c4b5a69788", "i-03c5e7a9b1d2f4608", "i-0de4c3b2a1f098765"}
	kmsKeyID      = "arn:aws:kms:us-east-1:" + accountID + ":key/7c1a9e52-3b4d-4f6a-9e8d-2c5b1a0f9e37"
)

// normalAction is one kind of everyday API call.
type normalAction struct {
	source, name string
	weight       float64
	actors       []string
	fill         func(b ctBuilder, r *ctRecord)
}

var normalActions = []normalAction{
	{"ec2.amazonaws.com", "DescribeInstances", 14, []string{"datadog", "sso-alice", "sso-bob", "dave", "gha", "bob"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"instancesSet": obj{}, "filterSet": obj{}, "includeAllInstances": false}
	}},
	{"ec2.amazonaws.com", "DescribeSecurityGroups", 5, []string{"datadog", "gha", "sso-bob", "dave"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"securityGroupSet": obj{}, "securityGroupIdSet": obj{}, "filterSet": obj{}}
	}},
	{"ec2.amazonaws.com", "DescribeVolumes", 4, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"volumeSet": obj{}, "filterSet": obj{}, "maxResults": 500}
	}},
	{"ec2.amazonaws.com", "DescribeInstanceStatus", 5, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"instancesSet": obj{}, "filterSet": obj{}, "includeAllInstances": true}
	}},
	{"ec2.amazonaws.com", "DescribeVpcs", 2, []string{"gha", "ci", "sso-bob"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"vpcSet": obj{"items": []obj{{"vpcId": vpcID}}}, "filterSet": obj{}}
	}},
	{"ec2.amazonaws.com", "DescribeSubnets", 2, []string{"gha", "ci"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"subnetSet": obj{}, "filterSet": obj{"items": []obj{{"name": "vpc-id", "valueSet": obj{"items": []obj{{"value": vpcID}}}}}}}
	}},
	{"ec2.amazonaws.com", "DescribeImages", 1.5, []string{"gha", "ci"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"executableBySet": obj{}, "imagesSet": obj{}, "ownersSet": obj{"items": []obj{{"owner": "amazon"}}}, "filterSet": obj{"items": []obj{{"name": "name", "valueSet": obj{"items": []obj{{"value": "al2023-ami-2023.*-x86_64"}}}}}}}
	}},
	{"ec2.amazonaws.com", "DescribeNetworkInterfaces", 2, []string{"datadog", "ecs"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"networkInterfaceIdSet": obj{}, "filterSet": obj{}}
	}},
	{"s3.amazonaws.com", "ListBuckets", 3, []string{"datadog", "sso-alice", "bob", "dave"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"Host": "s3.amazonaws.com"}
	}},
	{"s3.amazonaws.com", "GetBucketAcl", 2.5, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"bucketName": oneOf(b.rng, buckets...), "Host": "s3.amazonaws.com", "acl": ""}
	}},
	{"s3.amazonaws.com", "GetBucketPolicy", 1.5, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"bucketName": oneOf(b.rng, buckets...), "Host": "s3.amazonaws.com", "policy": ""}
	}},
	{"s3.amazonaws.com", "GetBucketLocation", 2, []string{"datadog", "lambda"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"bucketName": oneOf(b.rng, buckets...), "Host": "s3.amazonaws.com", "location": ""}
	}},
	{"s3.amazonaws.com", "GetBucketVersioning", 1, []string{"gha", "ci"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"bucketName": "dohyo-demo-terraform-state", "Host": "s3.amazonaws.com", "versioning": ""}
	}},
	{"iam.amazonaws.com", "GetUser", 1.5, []string{"alice", "bob", "dave", "ci"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = nil
	}},
	{"iam.amazonaws.com", "ListUsers", 1, []string{"datadog", "alice", "sso-alice"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = nil
	}},
	{"iam.amazonaws.com", "ListRoles", 1, []string{"datadog", "gha"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = nil
	}},
	{"iam.amazonaws.com", "GetRole", 1.5, []string{"gha", "ci"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"roleName": oneOf(b.rng, "payments-api-task-role", "settlement-export-lambda-role", "DatadogIntegrationRole")}
	}},
	{"iam.amazonaws.com", "ListAttachedRolePolicies", 1, []string{"gha", "datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"roleName": oneOf(b.rng, "payments-api-task-role", "settlement-export-lambda-role")}
	}},
	{"sts.amazonaws.com", "AssumeRole", 7, []string{"ecs", "alice", "dave", "ci"}, func(b ctBuilder, r *ctRecord) {
		role, session := "payments-api-task-role", hexID(b.rng, 32)
		if r.UserIdentity.Type == "IAMUser" {
			role, session = oneOf(b.rng, "OrganizationAccountAccessRole", "deploy-role", "read-only-audit"), r.UserIdentity.UserName
		}
		roleARN := "arn:aws:iam::" + accountID + ":role/" + role
		r.RequestParameters = obj{"roleArn": roleARN, "roleSessionName": session, "durationSeconds": 3600}
		r.ResponseElements = obj{
			"credentials":     obj{"accessKeyId": upperID(b.rng, "ASIAXF", 14), "sessionToken": "IQoJb3JpZ2luX2VjE" + hexID(b.rng, 24), "expiration": r.eventTimePlus(time.Hour)},
			"assumedRoleUser": obj{"assumedRoleId": upperID(b.rng, "AROAXF", 15) + ":" + session, "arn": "arn:aws:sts::" + accountID + ":assumed-role/" + role + "/" + session},
		}
		r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::IAM::Role", ARN: roleARN}}
		r.SharedEventID = uuid(b.rng)
		r.ReadOnly = true
	}},
	{"sts.amazonaws.com", "AssumeRoleWithWebIdentity", 2, []string{"gha"}, func(b ctBuilder, r *ctRecord) {
		r.UserIdentity = &ctIdentity{Type: "WebIdentityUser", PrincipalID: "arn:aws:iam::" + accountID + ":oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:dohyo-demo/shop:ref:refs/heads/main", UserName: "repo:dohyo-demo/shop:ref:refs/heads/main"}
		r.RequestParameters = obj{"roleArn": "arn:aws:iam::" + accountID + ":role/github-actions-deploy", "roleSessionName": "GitHubActions", "durationSeconds": 3600}
		r.ResponseElements = obj{"subjectFromWebIdentityToken": "repo:dohyo-demo/shop:ref:refs/heads/main", "provider": "arn:aws:iam::" + accountID + ":oidc-provider/token.actions.githubusercontent.com", "audience": "sts.amazonaws.com"}
		r.UserAgent = "aws-sdk-nodejs/2.1691.0 linux/v20.18.0 configure-aws-credentials-for-github-actions promise"
		r.ReadOnly = true
	}},
	{"sts.amazonaws.com", "GetCallerIdentity", 3, []string{"ci", "gha", "bob", "dave", "sso-carol"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters, r.ReadOnly = nil, true
	}},
	{"kms.amazonaws.com", "Decrypt", 8, []string{"payments", "lambda"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": obj{"service": "payments"}}
		r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::KMS::Key", ARN: kmsKeyID}}
		r.AWSRegion = "us-east-1"
	}},
	{"kms.amazonaws.com", "GenerateDataKey", 4, []string{"payments"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"keyId": "alias/payments-data", "keySpec": "AES_256", "encryptionContext": obj{"service": "payments"}}
		r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::KMS::Key", ARN: kmsKeyID}}
		r.AWSRegion = "us-east-1"
	}},
	{"secretsmanager.amazonaws.com", "GetSecretValue", 4, []string{"payments", "lambda"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"secretId": "arn:aws:secretsmanager:us-east-1:" + accountID + ":secret:" + oneOf(b.rng, "payments/db-credentials-Ab12Cd", "payments/adyen-api-key-Xy98Zq")}
		r.AWSRegion = "us-east-1"
	}},
	{"logs.amazonaws.com", "CreateLogStream", 2, []string{"payments", "lambda"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"logGroupName": oneOf(b.rng, "/ecs/payments-api", "/aws/lambda/settlement-export"), "logStreamName": "ecs/payments/" + hexID(b.rng, 32)}
	}},
	{"monitoring.amazonaws.com", "GetMetricData", 5, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"startTime": r.eventTimePlus(-10 * time.Minute), "endTime": r.EventTime, "scanBy": "TimestampDescending", "maxDatapoints": 100800}
	}},
	{"rds.amazonaws.com", "DescribeDBInstances", 2, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"maxRecords": 100}
	}},
	{"lambda.amazonaws.com", "ListFunctions20150331", 1, []string{"datadog"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = nil
	}},
	{"cloudtrail.amazonaws.com", "LookupEvents", 0.6, []string{"alice", "sso-alice"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"maxResults": 50, "lookupAttributes": []obj{{"attributeKey": "EventName", "attributeValue": "ConsoleLogin"}}}
	}},
	{"ec2.amazonaws.com", "RunInstances", 0.5, []string{"gha", "ci", "dave"}, func(b ctBuilder, r *ctRecord) {
		id := "i-0" + hexID(b.rng, 16)
		it := oneOf(b.rng, instanceTypes...)
		r.RequestParameters = obj{"instancesSet": obj{"items": []obj{{"imageId": "ami-0" + hexID(b.rng, 16), "minCount": 1, "maxCount": 1}}}, "instanceType": it,
			"subnetId": oneOf(b.rng, subnets...), "disableApiTermination": false, "clientToken": uuid(b.rng)}
		r.ResponseElements = obj{"requestId": r.RequestID, "reservationId": "r-0" + hexID(b.rng, 16), "ownerId": accountID,
			"instancesSet": obj{"items": []obj{{"instanceId": id, "instanceType": it, "instanceState": obj{"code": 0, "name": "pending"}}}}}
	}},
	{"ec2.amazonaws.com", "TerminateInstances", 0.4, []string{"gha", "ci", "dave"}, func(b ctBuilder, r *ctRecord) {
		id := "i-0" + hexID(b.rng, 16)
		r.RequestParameters = obj{"instancesSet": obj{"items": []obj{{"instanceId": id}}}}
		r.ResponseElements = obj{"requestId": r.RequestID, "instancesSet": obj{"items": []obj{{"instanceId": id, "currentState": obj{"code": 32, "name": "shutting-down"}, "previousState": obj{"code": 16, "name": "running"}}}}}
	}},
	{"ec2.amazonaws.com", "CreateTags", 1, []string{"gha", "ci"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"resourcesSet": obj{"items": []obj{{"resourceId": oneOf(b.rng, instanceIDs...)}}}, "tagSet": obj{"items": []obj{{"key": "team", "value": "payments"}}}}
		r.ResponseElements = obj{"requestId": r.RequestID, "_return": true}
	}},
	{"ec2.amazonaws.com", "CreateSnapshot", 0.3, []string{"lambda"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"volumeId": "vol-0" + hexID(b.rng, 16), "description": "nightly backup"}
		r.ResponseElements = obj{"requestId": r.RequestID, "snapshotId": "snap-0" + hexID(b.rng, 16), "status": "pending"}
	}},
	{"ec2.amazonaws.com", "DeleteSnapshot", 0.2, []string{"lambda"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"snapshotId": "snap-0" + hexID(b.rng, 16)}
		r.ResponseElements = obj{"requestId": r.RequestID, "_return": true}
	}},
	{"ec2.amazonaws.com", "CreateSecurityGroup", 0.08, []string{"gha", "dave"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"groupName": "svc-" + hexID(b.rng, 6), "groupDescription": "managed by terraform", "vpcId": vpcID}
		r.ResponseElements = obj{"requestId": r.RequestID, "_return": true, "groupId": "sg-0" + hexID(b.rng, 16)}
	}},
	{"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", 0.15, []string{"gha", "dave"}, func(b ctBuilder, r *ctRecord) {
		// Benign rules: HTTPS from anywhere on the load balancer, PostgreSQL from the VPC.
		port, cidr := 443, "0.0.0.0/0"
		if b.rng.IntN(2) == 0 {
			port, cidr = 5432, "10.0.0.0/16"
		}
		r.RequestParameters = sgIngress(oneOf(b.rng, secGroups...), "tcp", port, port, []string{cidr}, nil)
		r.ResponseElements = sgIngressResponse(b, r, oneOf(b.rng, secGroups...), "tcp", port, port, cidr)
	}},
	{"ec2.amazonaws.com", "RevokeSecurityGroupIngress", 0.08, []string{"gha", "dave"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = sgIngress(oneOf(b.rng, secGroups...), "tcp", 8080, 8080, []string{"10.0.0.0/16"}, nil)
		r.ResponseElements = obj{"requestId": r.RequestID, "_return": true}
	}},
	{"ec2.amazonaws.com", "AllocateAddress", 0.05, []string{"dave", "gha"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"domain": "vpc"}
		r.ResponseElements = obj{"requestId": r.RequestID, "publicIp": randomAddr(b.rng, awsUSEast1Range), "domain": "vpc", "allocationId": "eipalloc-0" + hexID(b.rng, 16), "networkBorderGroup": r.AWSRegion}
	}},
	{"ec2.amazonaws.com", "AssociateAddress", 0.05, []string{"dave", "gha"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"instanceId": oneOf(b.rng, instanceIDs...), "allocationId": "eipalloc-0" + hexID(b.rng, 16), "allowReassociation": false}
		r.ResponseElements = obj{"requestId": r.RequestID, "_return": true, "associationId": "eipassoc-0" + hexID(b.rng, 16)}
	}},
	{"ec2.amazonaws.com", "ReleaseAddress", 0.03, []string{"dave"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"allocationId": "eipalloc-0" + hexID(b.rng, 16)}
		r.ResponseElements = obj{"requestId": r.RequestID, "_return": true}
	}},
	{"s3.amazonaws.com", "CreateBucket", 0.03, []string{"gha", "dave"}, func(b ctBuilder, r *ctRecord) {
		name := "dohyo-demo-tmp-" + hexID(b.rng, 8)
		r.RequestParameters = obj{"bucketName": name, "Host": name + ".s3.amazonaws.com", "x-amz-acl": "private"}
		r.Resources = []ctResource{{Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + name}}
	}},
	{"s3.amazonaws.com", "PutObject", 3, []string{"lambda", "payments"}, func(b ctBuilder, r *ctRecord) {
		key := "exports/" + r.EventTime[:10] + "/settlement-" + hexID(b.rng, 8) + ".csv.gz"
		putObject(b, r, "dohyo-demo-settlements", key, obj{})
	}},
	{"s3.amazonaws.com", "GetObject", 3, []string{"payments", "lambda", "gha"}, func(b ctBuilder, r *ctRecord) {
		bucket, key := "dohyo-demo-web-assets", "config/"+oneOf(b.rng, "feature-flags.json", "currencies.json")
		if r.UserIdentity != nil && strings.Contains(r.UserIdentity.ARN, "github-actions") {
			bucket, key = "dohyo-demo-terraform-state", "shop/prod/terraform.tfstate"
		}
		dataEvent(b, r, bucket, key)
		r.RequestParameters = obj{"bucketName": bucket, "Host": bucket + ".s3." + r.AWSRegion + ".amazonaws.com", "key": key}
		r.ReadOnly = true
	}},
	{"iam.amazonaws.com", "PutRolePolicy", 0.04, []string{"gha"}, func(b ctBuilder, r *ctRecord) {
		r.RequestParameters = obj{"roleName": "payments-api-task-role", "policyName": "payments-s3-access",
			"policyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::dohyo-demo-settlements/*"}]}`}
	}},
	{"iam.amazonaws.com", "CreateRole", 0.02, []string{"gha"}, func(b ctBuilder, r *ctRecord) {
		name := "preview-env-" + hexID(b.rng, 6)
		r.RequestParameters = obj{"roleName": name, "assumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}
		r.ResponseElements = obj{"role": obj{"path": "/", "roleName": name, "roleId": upperID(b.rng, "AROAXF", 15), "arn": "arn:aws:iam::" + accountID + ":role/" + name, "createDate": r.EventTime}}
	}},
}

// eventTimePlus formats the record's time plus d like CloudTrail's
// response timestamps.
func (r *ctRecord) eventTimePlus(d time.Duration) string {
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return r.EventTime
	}
	return t.Add(d).UTC().Format("Jan 2, 2006, 3:04:05 PM")
}

func dataEvent(b ctBuilder, r *ctRecord, bucket, key string) {
	r.EventVersion = "1.10"
	r.ManagementEvent = false
	r.EventCategory = "Data"
	r.TLSDetails = &ctTLS{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: bucket + ".s3." + r.AWSRegion + ".amazonaws.com"}
	r.AdditionalEventData = obj{"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": hexID(b.rng, 40), "bytesTransferredOut": 0}
	r.Resources = []ctResource{
		{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::" + bucket + "/" + key},
		{AccountID: accountID, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket},
	}
}

// putObject fills a PutObject data event; grants adds x-amz-grant-*
// or x-amz-acl request parameters.
func putObject(b ctBuilder, r *ctRecord, bucket, key string, grants obj) {
	dataEvent(b, r, bucket, key)
	params := obj{"bucketName": bucket, "Host": bucket + ".s3." + r.AWSRegion + ".amazonaws.com", "key": key}
	for k, v := range grants {
		params[k] = v
	}
	r.RequestParameters = params
	r.ResponseElements = obj{"x-amz-server-side-encryption": "AES256", "x-amz-version-id": hexID(b.rng, 32)}
	r.ReadOnly = false
}

func sgIngress(group, proto string, from, to int, cidrs, cidrs6 []string) obj {
	perm := obj{"ipProtocol": proto, "fromPort": from, "toPort": to, "groups": obj{}, "prefixListIds": obj{}, "ipRanges": obj{}, "ipv6Ranges": obj{}}
	if len(cidrs) > 0 {
		items := []obj{}
		for _, c := range cidrs {
			items = append(items, obj{"cidrIp": c})
		}
		perm["ipRanges"] = obj{"items": items}
	}
	if len(cidrs6) > 0 {
		items := []obj{}
		for _, c := range cidrs6 {
			items = append(items, obj{"cidrIpv6": c})
		}
		perm["ipv6Ranges"] = obj{"items": items}
	}
	return obj{"groupId": group, "ipPermissions": obj{"items": []obj{perm}}}
}

func sgIngressResponse(b ctBuilder, r *ctRecord, group, proto string, from, to int, cidrs ...string) obj {
	items := []obj{}
	for _, c := range cidrs {
		rule := obj{"groupOwnerId": accountID, "groupId": group, "securityGroupRuleId": "sgr-0" + hexID(b.rng, 16), "isEgress": false, "ipProtocol": proto, "fromPort": from, "toPort": to}
		if strings.Contains(c, ":") {
			rule["cidrIpv6"] = c
		} else {
			rule["cidrIpv4"] = c
		}
		items = append(items, rule)
	}
	return obj{"requestId": r.RequestID, "_return": true, "securityGroupRuleSet": obj{"items": items}}
}

// pickAction chooses an everyday action.
func pickAction(rng *rand.Rand) *normalAction {
	total := 0.0
	for i := range normalActions {
		total += normalActions[i].weight
	}
	x := rng.Float64() * total
	for i := range normalActions {
		if x < normalActions[i].weight {
			return &normalActions[i]
		}
		x -= normalActions[i].weight
	}
	return &normalActions[0]
}

// ctNormal generates one everyday record.
func (g *Generator) ctNormal(rng *rand.Rand, t time.Time) string {
	b := ctBuilder{g: g, rng: rng}
	// A few console logins a day per person, during their working hours.
	if rng.Float64() < 0.012 {
		return g.consoleLogin(b, t, g.people[oneOf(rng, "alice", "bob", "carol", "dave", "erin", "frank", "alice", "dave")], true, true, "").json()
	}
	if rng.Float64() < 0.004 {
		return g.kmsRotation(b, t).json()
	}
	a := pickAction(rng)
	p := g.people[oneOf(rng, a.actors...)]
	r := b.record(p, t, a.source, a.name, "")
	a.fill(b, r)
	if r.UserIdentity != nil && r.UserIdentity.Type == "IAMUser" || p.kind == "AssumedRole" && strings.HasPrefix(p.role, "AWSReserved") {
		// People sometimes try what they may not.
		if rng.Float64() < 0.02 {
			svc := strings.TrimSuffix(a.source, ".amazonaws.com")
			if svc == "monitoring" {
				svc = "cloudwatch"
			}
			r.deny(svc, a.name, "*", svc == "ec2", p)
			r.ResponseElements = nil
		}
	}
	return r.json()
}

// kmsRotation is a service event: KMS rotating a key by itself.
func (g *Generator) kmsRotation(b ctBuilder, t time.Time) *ctRecord {
	return &ctRecord{
		EventVersion:        "1.10",
		UserIdentity:        &ctIdentity{Type: "AWSService", InvokedBy: "kms.amazonaws.com"},
		EventTime:           t.UTC().Format(time.RFC3339),
		EventSource:         "kms.amazonaws.com",
		EventName:           "RotateKey",
		AWSRegion:           "us-east-1",
		SourceIPAddress:     "kms.amazonaws.com",
		UserAgent:           "kms.amazonaws.com",
		RequestParameters:   nil,
		ResponseElements:    nil,
		AdditionalEventData: obj{"keyId": kmsKeyID, "rotationType": "AUTOMATIC"},
		EventID:             uuid(b.rng),
		ReadOnly:            false,
		Resources:           []ctResource{{AccountID: accountID, Type: "AWS::KMS::Key", ARN: kmsKeyID}},
		EventType:           "AwsServiceEvent",
		ManagementEvent:     true,
		RecipientAccountID:  accountID,
		SharedEventID:       uuid(b.rng),
		EventCategory:       "Management",
	}
}

// consoleLogin is a ConsoleLogin record. ip "" means one of the person's
// usual addresses. A failed login of an unknown user name hides the name.
func (g *Generator) consoleLogin(b ctBuilder, t time.Time, p *principal, success, mfa bool, ip string) *ctRecord {
	rng := b.rng
	if ip == "" {
		ip = b.sourceIP(p)
	}
	empty := ""
	id := &ctIdentity{Type: p.kind, PrincipalID: p.id, ARN: p.arn(), AccountID: accountID, AccessKeyID: &empty, UserName: p.name}
	if p.kind == "Root" {
		id = &ctIdentity{Type: "Root", PrincipalID: accountID, ARN: p.arn(), AccountID: accountID, AccessKeyID: &empty}
	}
	mfaUsed := "No"
	extra := obj{"LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_" + hexID(rng, 16), "MobileVersion": "No"}
	if mfa && success {
		mfaUsed = "Yes"
		extra["MFAIdentifier"] = "arn:aws:iam::" + accountID + ":mfa/" + strings.SplitN(p.displayName(), ".", 2)[0] + "-phone"
	}
	extra["MFAUsed"] = mfaUsed
	result := "Success"
	if !success {
		result = "Failure"
	}
	r := &ctRecord{
		EventVersion:        "1.08",
		UserIdentity:        id,
		EventTime:           t.UTC().Format(time.RFC3339),
		EventSource:         "signin.amazonaws.com",
		EventName:           "ConsoleLogin",
		AWSRegion:           "us-east-1",
		SourceIPAddress:     ip,
		UserAgent:           oneOf(rng, uaBrowser, uaBrowserW),
		RequestParameters:   nil,
		ResponseElements:    obj{"ConsoleLogin": result},
		AdditionalEventData: extra,
		EventID:             uuid(rng),
		ReadOnly:            false,
		EventType:           "AwsConsoleSignIn",
		ManagementEvent:     true,
		RecipientAccountID:  accountID,
		EventCategory:       "Management",
		TLSDetails:          &ctTLS{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: "signin.aws.amazon.com"},
	}
	if !success {
		r.ErrorMessage = "Failed authentication"
	}
	return r
}

// failedLoginUnknownUser is a failed login with a user name that does not
// exist: CloudTrail hides the name.
func (g *Generator) failedLoginUnknownUser(b ctBuilder, t time.Time, ip string) *ctRecord {
	r := g.consoleLogin(b, t, g.people["alice"], false, false, ip)
	empty := ""
	r.UserIdentity = &ctIdentity{Type: "IAMUser", AccountID: accountID, AccessKeyID: &empty, UserName: "HIDDEN_DUE_TO_SECURITY_REASONS"}
	r.ErrorMessage = "No username found in supplied account"
	return r
}

// attacker is an outsider (or a stolen credential used from outside).
func attackerIP(rng *rand.Rand) (string, string) {
	c := pick(rng, attackerCountries)
	return addrIn(rng, attackerRanges, c), c
}

// ctScenario generates the records of one suspicious activity starting at
// t. Every record carries the scenario name.
func (g *Generator) ctScenario(rng *rand.Rand, kind string, t time.Time) []Event {
	b := ctBuilder{g: g, rng: rng}
	var out []Event
	at := t
	add := func(r *ctRecord) {
		out = append(out, Event{Stream: StreamCloudTrail, Time: at, Raw: r.json(), Scenario: kind})
	}
	step := func(max time.Duration) { at = at.Add(time.Second + time.Duration(rng.Int64N(int64(max)))) }
	// stolen makes a principal act from an attacker's address.
	stolen := func(key string, ip string, agent string) *principal {
		p := *g.people[key]
		p.ips, p.agents = []string{ip}, []string{agent}
		return &p
	}
	// person is someone acting in one session: one address, one tool.
	person := func(keys ...string) *principal {
		p := *g.people[oneOf(rng, keys...)]
		if len(p.ips) > 0 {
			p.ips = []string{oneOf(rng, p.ips...)}
		}
		if len(p.agents) > 0 {
			p.agents = []string{oneOf(rng, p.agents...)}
		}
		return &p
	}
	switch kind {
	case ScenarioLoginFailures:
		ip, _ := attackerIP(rng)
		n := 6 + rng.IntN(8)
		for i := 0; i < n; i++ {
			if rng.IntN(3) == 0 {
				add(g.failedLoginUnknownUser(b, at, ip))
			} else {
				add(g.consoleLogin(b, at, person("alice", "dave", "erin"), false, false, ip))
			}
			step(30 * time.Second)
		}
	case ScenarioLoginNoMFA:
		p := person("erin", "frank")
		add(g.consoleLogin(b, at, p, true, false, ""))
		step(time.Minute)
		r := b.record(p, at, "s3.amazonaws.com", "ListBuckets", "us-east-1")
		r.RequestParameters = obj{"Host": "s3.amazonaws.com"}
		r.UserIdentity.SessionContext = &ctSessionContext{SessionIssuer: obj{}, WebIDFederationData: obj{}, Attributes: ctAttributes{at.UTC().Format(time.RFC3339), "false"}}
		add(r)
	case ScenarioLoginNewCountry:
		ip, _ := attackerIP(rng)
		p := person("bob", "dave")
		add(g.consoleLogin(b, at, p, true, true, ip))
		step(2 * time.Minute)
		sp := stolen(p.key, ip, uaConsole)
		r := b.record(sp, at, "iam.amazonaws.com", "ListUsers", "")
		add(r)
	case ScenarioRootUsage:
		root := g.people["root"]
		add(g.consoleLogin(b, at, root, true, true, ""))
		for _, name := range []string{"GetAccountSummary", "ListUsers", "GetAccountPasswordPolicy"} {
			step(time.Minute)
			r := b.record(root, at, "iam.amazonaws.com", name, "")
			if name == "GetAccountPasswordPolicy" {
				r.ErrorCode = "NoSuchEntityException"
				r.ErrorMessage = "The Password Policy with domain name " + accountID + " cannot be found."
			}
			add(r)
		}
		step(time.Minute)
		r := b.record(root, at, "iam.amazonaws.com", "CreateAccessKey", "")
		r.RequestParameters = nil
		r.ResponseElements = obj{"accessKey": obj{"accessKeyId": upperID(rng, "AKIAXF", 14), "status": "Active", "createDate": r.eventTimePlus(0)}}
		add(r)
	case ScenarioSecurityGroupOpen:
		p := person("dave", "bob")
		group := oneOf(rng, secGroups...)
		r := b.record(p, at, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "")
		r.RequestParameters = sgIngress(group, "tcp", 22, 22, []string{"0.0.0.0/0"}, []string{"::/0"})
		r.ResponseElements = sgIngressResponse(b, r, group, "tcp", 22, 22, "0.0.0.0/0", "::/0")
		add(r)
		step(3 * time.Minute)
		r = b.record(p, at, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", r.AWSRegion)
		r.RequestParameters = sgIngress(group, "tcp", 3389, 3389, []string{"0.0.0.0/0"}, nil)
		r.ResponseElements = sgIngressResponse(b, r, group, "tcp", 3389, 3389, "0.0.0.0/0")
		add(r)
		if rng.IntN(2) == 0 {
			step(3 * time.Minute)
			r = b.record(p, at, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", r.AWSRegion)
			r.RequestParameters = sgIngress(group, "-1", -1, -1, []string{"0.0.0.0/0"}, nil)
			r.ResponseElements = sgIngressResponse(b, r, group, "-1", -1, -1, "0.0.0.0/0")
			add(r)
		}
	case ScenarioIAMBackdoor:
		ip, _ := attackerIP(rng)
		p := stolen("ci", ip, uaPacu)
		user := "svc-backup-" + hexID(rng, 4)
		userARN := "arn:aws:iam::" + accountID + ":user/" + user
		r := b.record(p, at, "iam.amazonaws.com", "CreateUser", "")
		r.RequestParameters = obj{"userName": user}
		r.ResponseElements = obj{"user": obj{"path": "/", "userName": user, "userId": upperID(rng, "AIDAXF", 15), "arn": userARN, "createDate": r.eventTimePlus(0)}}
		add(r)
		step(20 * time.Second)
		r = b.record(p, at, "iam.amazonaws.com", "CreateLoginProfile", "")
		r.RequestParameters = obj{"userName": user, "passwordResetRequired": false}
		r.ResponseElements = obj{"loginProfile": obj{"userName": user, "createDate": r.eventTimePlus(0), "passwordResetRequired": false}}
		add(r)
		step(20 * time.Second)
		r = b.record(p, at, "iam.amazonaws.com", "AttachUserPolicy", "")
		r.RequestParameters = obj{"userName": user, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
		add(r)
		step(20 * time.Second)
		r = b.record(p, at, "iam.amazonaws.com", "CreateAccessKey", "")
		r.RequestParameters = obj{"userName": user}
		r.ResponseElements = obj{"accessKey": obj{"userName": user, "accessKeyId": upperID(rng, "AKIAXF", 14), "status": "Active", "createDate": r.eventTimePlus(0)}}
		add(r)
		step(20 * time.Second)
		r = b.record(p, at, "iam.amazonaws.com", "AddUserToGroup", "")
		r.RequestParameters = obj{"groupName": "Administrators", "userName": user}
		add(r)
	case ScenarioShortLivedUser:
		p := person("alice", "dave")
		user := "tmp-audit-" + hexID(rng, 4)
		r := b.record(p, at, "iam.amazonaws.com", "CreateUser", "")
		r.RequestParameters = obj{"userName": user}
		r.ResponseElements = obj{"user": obj{"path": "/", "userName": user, "userId": upperID(rng, "AIDAXF", 15), "arn": "arn:aws:iam::" + accountID + ":user/" + user, "createDate": r.eventTimePlus(0)}}
		add(r)
		at = at.Add(time.Duration(2+rng.IntN(6)) * time.Minute)
		r = b.record(p, at, "iam.amazonaws.com", "DeleteUser", "")
		r.RequestParameters = obj{"userName": user}
		add(r)
	case ScenarioS3PublicACL:
		p := person("bob", "sso-bob", "dave")
		ownerID := hexID(rng, 64)
		acl := func(bucket, groupURI, perm string) {
			r := b.record(p, at, "s3.amazonaws.com", "PutBucketAcl", "us-east-1")
			r.RequestParameters = obj{
				"bucketName": bucket, "Host": bucket + ".s3.amazonaws.com", "acl": "",
				"AccessControlPolicy": obj{
					"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
					"Owner": obj{"ID": ownerID},
					"AccessControlList": obj{"Grant": []obj{
						{"Grantee": obj{"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "CanonicalUser", "ID": ownerID}, "Permission": "FULL_CONTROL"},
						{"Grantee": obj{"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "Group", "URI": groupURI}, "Permission": perm},
					}},
				},
			}
			r.AdditionalEventData = obj{"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": hexID(rng, 40), "bytesTransferredOut": 0}
			r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket}}
			add(r)
		}
		acl("dohyo-demo-marketing-assets", "http://acs.amazonaws.com/groups/global/AllUsers", "READ")
		step(2 * time.Minute)
		acl("dohyo-demo-customer-exports", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", oneOf(rng, "READ", "FULL_CONTROL"))
	case ScenarioS3PublicObject:
		p := person("bob", "lambda")
		key := "exports/customers-" + at.UTC().Format("20060102") + ".csv"
		r := b.record(p, at, "s3.amazonaws.com", "PutObject", "us-east-1")
		putObject(b, r, "dohyo-demo-customer-exports", key, obj{"x-amz-grant-read": "uri=http://acs.amazonaws.com/groups/global/AllUsers"})
		add(r)
		step(time.Minute)
		r = b.record(p, at, "s3.amazonaws.com", "PutObject", "us-east-1")
		putObject(b, r, "dohyo-demo-marketing-assets", "campaigns/black-friday/price-list.xlsx", obj{"x-amz-acl": "public-read"})
		add(r)
		step(time.Minute)
		r = b.record(p, at, "s3.amazonaws.com", "PutObjectAcl", "us-east-1")
		objKey := "reports/q3-revenue.pdf"
		dataEvent(b, r, "dohyo-demo-customer-exports", objKey)
		r.RequestParameters = obj{"bucketName": "dohyo-demo-customer-exports", "Host": "dohyo-demo-customer-exports.s3.amazonaws.com", "key": objKey, "acl": "",
			"AccessControlPolicy": obj{"AccessControlList": obj{"Grant": []obj{
				{"Grantee": obj{"xsi:type": "CanonicalUser", "ID": hexID(rng, 64)}, "Permission": "FULL_CONTROL"},
				{"Grantee": obj{"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
			}}}}
		add(r)
	case ScenarioS3PublicPolicy:
		p := person("bob", "dave", "sso-bob")
		bucket := "dohyo-demo-customer-exports"
		r := b.record(p, at, "s3.amazonaws.com", "PutBucketPolicy", "us-east-1")
		r.RequestParameters = obj{"bucketName": bucket, "Host": bucket + ".s3.amazonaws.com", "policy": "",
			"bucketPolicy": obj{"Version": "2012-10-17", "Statement": []obj{{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + bucket + "/*"}}}}
		r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket}}
		add(r)
	case ScenarioS3BlockPublicAccessOff:
		p := person("bob", "dave", "sso-bob")
		bucket := oneOf(rng, "dohyo-demo-customer-exports", "dohyo-demo-marketing-assets")
		r := b.record(p, at, "s3.amazonaws.com", "PutBucketPublicAccessBlock", "us-east-1")
		r.RequestParameters = obj{"bucketName": bucket, "Host": bucket + ".s3.amazonaws.com", "publicAccessBlock": "",
			"PublicAccessBlockConfiguration": obj{"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "BlockPublicAcls": false, "IgnorePublicAcls": false, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}}
		r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket}}
		add(r)
		step(2 * time.Minute)
		r = b.record(p, at, "s3.amazonaws.com", "DeleteBucketPublicAccessBlock", r.AWSRegion)
		r.RequestParameters = obj{"bucketName": bucket, "Host": bucket + ".s3.amazonaws.com", "publicAccessBlock": ""}
		r.Resources = []ctResource{{AccountID: accountID, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket}}
		add(r)
	case ScenarioCloudTrailTampering:
		ip, _ := attackerIP(rng)
		p := stolen(oneOf(rng, "ci", "sso-alice"), ip, uaAttacker)
		trail := "arn:aws:cloudtrail:us-east-1:" + accountID + ":trail/org-trail"
		r := b.record(p, at, "cloudtrail.amazonaws.com", "StopLogging", "us-east-1")
		r.RequestParameters = obj{"name": trail}
		add(r)
		step(3 * time.Minute)
		r = b.record(p, at, "cloudtrail.amazonaws.com", "DeleteTrail", "us-east-1")
		r.RequestParameters = obj{"name": trail}
		add(r)
	case ScenarioGuardDutyDisabled:
		ip, _ := attackerIP(rng)
		p := stolen(oneOf(rng, "ci", "sso-alice"), ip, uaAttacker)
		region := pick(rng, regions)
		r := b.record(p, at, "guardduty.amazonaws.com", "ListDetectors", region)
		r.RequestParameters = nil
		add(r)
		step(time.Minute)
		r = b.record(p, at, "guardduty.amazonaws.com", "DeleteDetector", region)
		r.RequestParameters = obj{"detectorId": hexID(rng, 32)}
		add(r)
	case ScenarioUnauthorizedCalls:
		ip, _ := attackerIP(rng)
		p := stolen("payments", ip, uaPacu)
		calls := []struct{ source, name, svc string }{
			{"iam.amazonaws.com", "ListUsers", "iam"}, {"iam.amazonaws.com", "ListRoles", "iam"},
			{"iam.amazonaws.com", "ListAttachedUserPolicies", "iam"}, {"s3.amazonaws.com", "ListBuckets", "s3"},
			{"ec2.amazonaws.com", "DescribeInstances", "ec2"}, {"ec2.amazonaws.com", "DescribeSnapshots", "ec2"},
			{"secretsmanager.amazonaws.com", "ListSecrets", "secretsmanager"}, {"lambda.amazonaws.com", "ListFunctions20150331", "lambda"},
			{"organizations.amazonaws.com", "DescribeOrganization", "organizations"}, {"guardduty.amazonaws.com", "ListDetectors", "guardduty"},
		}
		n := 12 + rng.IntN(10)
		for i := 0; i < n; i++ {
			c := calls[rng.IntN(len(calls))]
			r := b.record(p, at, c.source, c.name, "")
			r.RequestParameters = nil
			r.deny(c.svc, c.name, "*", c.svc == "ec2", p)
			add(r)
			step(15 * time.Second)
		}
	case ScenarioNACLAllowAll:
		p := person("dave", "bob")
		acl := "acl-0" + hexID(rng, 16)
		for _, egress := range []bool{false, true} {
			r := b.record(p, at, "ec2.amazonaws.com", "CreateNetworkAclEntry", "")
			r.RequestParameters = obj{"networkAclId": acl, "ruleNumber": 100, "egress": egress, "ruleAction": "allow", "icmpTypeCode": obj{}, "portRange": obj{}, "aclProtocol": "-1", "cidrBlock": "0.0.0.0/0"}
			r.ResponseElements = obj{"requestId": r.RequestID, "_return": true}
			add(r)
			step(30 * time.Second)
		}
	default:
		return nil
	}
	return out
}

// AdminUsers are the demo account's administrators as the CloudTrail app
// names users (IAM user names and the session names of assumed roles):
// the demo lists them in the app's admin_users lookup table so that the
// User Monitoring dashboard's administrator panels show their activity.
func AdminUsers() []string {
	return []string{"alice.nguyen", "alice.nguyen@" + orgDomain, "dave.okafor"}
}

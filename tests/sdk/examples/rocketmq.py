import os, time
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkrocketmq.v2 import RocketMQClient, model as m

url = 'http://' + os.environ.get('CLOUDTWIN_ENDPOINT', '127.0.0.1:9700')  # cloudtwin
creds = BasicCredentials(os.environ['HUAWEICLOUD_SDK_AK'], os.environ['HUAWEICLOUD_SDK_SK'])
client = RocketMQClient.new_builder().with_credentials(creds.with_iam_endpoint(url)) \
    .with_region(Region('cn-north-4', url)).build()  # looks up the project id of cn-north-4 in IAM

created = client.create_post_paid_instance(m.CreatePostPaidInstanceRequest(body=m.CreatePostPaidInstanceReq(
    name='reliability-1751840557', description='', engine='reliability', engine_version='4.8.0',
    storage_space=600, vpc_id='3db8490c-4d6d-4d8f-8d3f-047b0de4c5cf',
    subnet_id='0a0f1fcb-f019-458d-b9e5-301867394d50',
    security_group_id='23c5977f-ff33-4b95-a73e-08d8a0bc4e6c',
    available_zones=['9f1c5806706d4c1fb0eb72f0a9b18c77'], product_id='c6.4u8g.cluster',
    enterprise_project_id='0', ssl_enable=False, storage_spec_code='dms.physical.storage.ultra.v2',
    ipv6_enable=False, enable_publicip=False, publicip_id='', broker_num=1)))
instance_id = created.instance_id

for _ in range(600):  # poll until RUNNING
    status = client.show_instance(m.ShowInstanceRequest(instance_id=instance_id)).status
    if status == 'RUNNING':
        break
    time.sleep(0.5)
print(instance_id, status)

client.delete_instance(m.DeleteInstanceRequest(instance_id=instance_id))  # DELETING, then 404

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_image_model import TaskImageModel
from ..models.task_image_quality import TaskImageQuality
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateImageTaskRequest")


@_attrs_define
class CreateImageTaskRequest:
    """
    Attributes:
        model (TaskImageModel): 模型编码 Example: glm-image.
        prompt (str): 所需图像的文本描述 Example: 一只可爱的小猫咪.
        quality (TaskImageQuality | Unset): 生成图像的质量。`hd`: 生成更精细、细节更丰富的图像，整体一致性更高，耗时约`20`秒； Default: TaskImageQuality.HD.
        size (str | Unset): 图片尺寸，推荐枚举值：`1280x1280` (默认), `1568×1056`, `1056×1568`, `1472×1088`, `1088×1472`, `1728×960`,
            `960×1728`。
            自定义参数:长宽推荐设置在`1024px-2048px`范围内,并保证最大像素数不超过`2^22px`;长宽均需为`32`的整数倍。 Default: '1280x1280'. Example: 1280x1280.
        watermark_enabled (bool | Unset): 控制`AI`生成图片时是否添加水印。
             - `true`: 默认启用`AI`生成的显式水印及隐式数字水印，符合政策要求。
             - `false`: 关闭所有水印，仅允许已签署免责声明的客户使用，签署路径：个人中心-安全管理-去水印管理 Example: True.
        user_id (str | Unset): 终端用户的唯一`ID`，协助平台对终端用户的违规行为、生成违法及不良信息或其他滥用行为进行干预。`ID`长度要求：最少`6`个字符，最多`128`个字符。
    """

    model: TaskImageModel
    prompt: str
    quality: TaskImageQuality | Unset = TaskImageQuality.HD
    size: str | Unset = "1280x1280"
    watermark_enabled: bool | Unset = UNSET
    user_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        prompt = self.prompt

        quality: str | Unset = UNSET
        if not isinstance(self.quality, Unset):
            quality = self.quality.value

        size = self.size

        watermark_enabled = self.watermark_enabled

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
            }
        )
        if quality is not UNSET:
            field_dict["quality"] = quality
        if size is not UNSET:
            field_dict["size"] = size
        if watermark_enabled is not UNSET:
            field_dict["watermark_enabled"] = watermark_enabled
        if user_id is not UNSET:
            field_dict["user_id"] = user_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = TaskImageModel(d.pop("model"))

        prompt = d.pop("prompt")

        _quality = d.pop("quality", UNSET)
        quality: TaskImageQuality | Unset
        if isinstance(_quality, Unset):
            quality = UNSET
        else:
            quality = TaskImageQuality(_quality)

        size = d.pop("size", UNSET)

        watermark_enabled = d.pop("watermark_enabled", UNSET)

        user_id = d.pop("user_id", UNSET)

        create_image_task_request = cls(
            model=model,
            prompt=prompt,
            quality=quality,
            size=size,
            watermark_enabled=watermark_enabled,
            user_id=user_id,
        )

        create_image_task_request.additional_properties = d
        return create_image_task_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties

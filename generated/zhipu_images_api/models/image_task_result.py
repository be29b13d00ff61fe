from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_image import TaskImage


T = TypeVar("T", bound="ImageTaskResult")


@_attrs_define
class ImageTaskResult:
    """
    Attributes:
        model (str | Unset): 模型名称。
        task_status (str | Unset): 任务处理状态，`PROCESSING`（处理中），`SUCCESS`（成功），`FAIL`（失败） 注：处理中状态需通过查询获取结果
        image_result (list[TaskImage] | Unset): 数组，包含生成的图片`URL`。
        request_id (str | Unset): 标识此次请求的唯一`ID`，可由用户在客户端请求时提交或平台自动生成。
    """

    model: str | Unset = UNSET
    task_status: str | Unset = UNSET
    image_result: list[TaskImage] | Unset = UNSET
    request_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        task_status = self.task_status

        image_result: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.image_result, Unset):
            image_result = []
            for image_result_item_data in self.image_result:
                image_result_item = image_result_item_data.to_dict()
                image_result.append(image_result_item)

        request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if model is not UNSET:
            field_dict["model"] = model
        if task_status is not UNSET:
            field_dict["task_status"] = task_status
        if image_result is not UNSET:
            field_dict["image_result"] = image_result
        if request_id is not UNSET:
            field_dict["request_id"] = request_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_image import TaskImage  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model", UNSET)

        task_status = d.pop("task_status", UNSET)

        _image_result = d.pop("image_result", UNSET)
        image_result: list[TaskImage] | Unset = UNSET
        if _image_result is not UNSET:
            image_result = []
            for image_result_item_data in _image_result:
                image_result_item = TaskImage.from_dict(image_result_item_data)

                image_result.append(image_result_item)

        request_id = d.pop("request_id", UNSET)

        image_task_result = cls(
            model=model,
            task_status=task_status,
            image_result=image_result,
            request_id=request_id,
        )

        image_task_result.additional_properties = d
        return image_task_result

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
